<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>DecisionLogTableModel</name>
    <message>
        <source>Accepted</source>
        <translation>已接受</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>Held</source>
        <translation>暂缓</translation>
    </message>
    <message>
        <source>Decided by %1 at %2</source>
        <translation>由 %1 于 %2 决定</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>位号</translation>
    </message>
    <message>
        <source>Recommended</source>
        <translation>建议值</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>决定</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
</context>
<context>
    <name>ErrorReporter</name>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Unexpected error</source>
        <translation>意外错误</translation>
    </message>
    <message>
        <source>An unexpected error occurred: %1

Details were written to:
%2</source>
        <translation>发生意外错误：%1

详细信息已写入：
%2</translation>
    </message>
</context>
<context>
    <name>FlowsView</name>
    <message>
        <source>Medium:</source>
        <extracomment>Colour of a band by the medium kind of the network node it touches. Display values below this are shown as 0 (rounding dust of the balances). [display unit] Labels sit on a translucent white plate: readable over the bands they cross.</extracomment>
        <translation>介质：</translation>
    </message>
</context>
<context>
    <name>Fonts</name>
    <message>
        <source>No Chinese font found: Chinese text may show as boxes. Install one, e.g. the Debian package %1.</source>
        <translation>未找到中文字体：中文可能显示为方框。请安装中文字体，例如 Debian 软件包 %1。</translation>
    </message>
</context>
<context>
    <name>KpiDashboard</name>
    <message>
        <source>Recorded</source>
        <extracomment>Text colour of a difference that is better / worse than the reference. Height each time plot keeps in a short dock (the panel scrolls below the buttons). [px] KPI rows the table keeps room for. [-] Item data role holding whether a difference cell is better (True), worse (False) or neither.</extracomment>
        <translation>实际运行</translation>
    </message>
    <message>
        <source>Baseline</source>
        <translation>基准策略</translation>
    </message>
    <message>
        <source>MPC</source>
        <translation>MPC</translation>
    </message>
</context>
<context>
    <name>KpiDashboardPanel</name>
    <message>
        <source>Open replay folder</source>
        <translation>打开回放目录</translation>
    </message>
    <message>
        <source>Loading replay folder</source>
        <translation>正在读取回放目录</translation>
    </message>
    <message>
        <source>Replay (%1)</source>
        <translation>回放（%1）</translation>
    </message>
    <message>
        <source>HTML report</source>
        <translation>HTML 报告</translation>
    </message>
    <message>
        <source>Cannot export the report</source>
        <translation>无法导出报告</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>Cannot open replay folder</source>
        <translation>无法打开回放目录</translation>
    </message>
    <message>
        <source>Replay failed</source>
        <translation>回放失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Report written: %1</source>
        <translation>报告已写入：%1</translation>
    </message>
    <message>
        <source>No replay folder open.</source>
        <translation>未打开回放目录。</translation>
    </message>
    <message>
        <source>Controller %1, compared with %2</source>
        <translation>控制器 %1，对比 %2</translation>
    </message>
    <message>
        <source>Controller %1</source>
        <translation>控制器 %1</translation>
    </message>
    <message>
        <source>Results folder: %1</source>
        <translation>结果文件夹：%1</translation>
    </message>
    <message>
        <source>No KPIs: %1</source>
        <translation>无 KPI：%1</translation>
    </message>
    <message>
        <source>KPI</source>
        <translation>KPI</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Δ vs %1</source>
        <translation>相对%1的差值</translation>
    </message>
    <message>
        <source>Δ %</source>
        <translation>差值 %</translation>
    </message>
    <message>
        <source>Differences against %1: green is better, red is worse.</source>
        <translation>相对%1的差值：绿色为更优，红色为更差。</translation>
    </message>
    <message>
        <source>Cumulative cost [%1]</source>
        <translation>累计成本 [%1]</translation>
    </message>
    <message>
        <source>Energy intensity, %1 h rolling [kgce/t]</source>
        <translation>单位产品综合能耗，%1 小时滚动 [kgce/t]</translation>
    </message>
    <message>
        <source>No cost over time: %1</source>
        <translation>无累计成本：%1</translation>
    </message>
    <message>
        <source>No energy intensity over time: %1</source>
        <translation>无能耗强度曲线：%1</translation>
    </message>
    <message>
        <source>Open replay folder...</source>
        <translation>打开回放目录...</translation>
    </message>
    <message>
        <source>Run replay...</source>
        <translation>运行回放...</translation>
    </message>
    <message>
        <source>Export HTML report</source>
        <translation>导出 HTML 报告</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cost over time</source>
        <translation>成本随时间变化</translation>
    </message>
    <message>
        <source>Energy intensity over time</source>
        <translation>能耗强度随时间变化</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>位号</translation>
    </message>
    <message>
        <source>Energy flows</source>
        <translation>能流</translation>
    </message>
    <message>
        <source>Trends</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>Recommendations</source>
        <translation>操作建议</translation>
    </message>
    <message>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>KPI dashboard</source>
        <translation>KPI 看板</translation>
    </message>
    <message>
        <source>Advisor</source>
        <translation>优化顾问</translation>
    </message>
    <message>
        <source>Trends and flows</source>
        <translation>趋势与能流</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>拟合</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;project...</source>
        <translation>打开项目(&amp;P)...</translation>
    </message>
    <message>
        <source>Open &amp;historian file...</source>
        <translation>打开历史数据文件(&amp;H)...</translation>
    </message>
    <message>
        <source>Recent p&amp;rojects</source>
        <translation>最近的项目(&amp;R)</translation>
    </message>
    <message>
        <source>Recent historian &amp;files</source>
        <translation>最近的历史数据文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>Scan data &amp;quality</source>
        <translation>扫描数据质量(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Settings...</source>
        <translation>设置(&amp;S)...</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About energyopt</source>
        <translation>关于 energyopt(&amp;A)</translation>
    </message>
    <message>
        <source>This panel is not available yet.</source>
        <translation>此面板尚不可用。</translation>
    </message>
    <message>
        <source>Open project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <source>Project (*.toml)</source>
        <translation>项目 (*.toml)</translation>
    </message>
    <message>
        <source>Open historian file</source>
        <translation>打开历史数据文件</translation>
    </message>
    <message>
        <source>Historian (*.h5 *.hdf5)</source>
        <translation>历史数据 (*.h5 *.hdf5)</translation>
    </message>
    <message>
        <source>Cannot open project</source>
        <translation>无法打开项目</translation>
    </message>
    <message>
        <source>Cannot open historian file</source>
        <translation>无法打开历史数据文件</translation>
    </message>
    <message>
        <source>Data-quality scan</source>
        <translation>数据质量扫描</translation>
    </message>
    <message>
        <source>Data-quality scan failed</source>
        <translation>数据质量扫描失败</translation>
    </message>
    <message>
        <source>Data-quality scan cancelled</source>
        <translation>数据质量扫描已取消</translation>
    </message>
    <message>
        <source>Data-quality scan: %1 findings</source>
        <translation>数据质量扫描：发现 %1 个问题</translation>
    </message>
    <message>
        <source>Clear list</source>
        <translation>清除列表</translation>
    </message>
    <message>
        <source>Replay time: %1</source>
        <translation>回放时间：%1</translation>
    </message>
    <message>
        <source>About energyopt</source>
        <translation>关于 energyopt</translation>
    </message>
    <message>
        <source>energyopt %1: factory energy and process-control optimiser.</source>
        <translation>energyopt %1：工厂能源与过程控制优化软件。</translation>
    </message>
</context>
<context>
    <name>ModelPanel</name>
    <message>
        <source>Unit</source>
        <translation>装置</translation>
    </message>
    <message>
        <source>Fitted as</source>
        <translation>拟合方式</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>NRMSE</source>
        <translation>NRMSE</translation>
    </message>
    <message>
        <source>R²</source>
        <translation>R²</translation>
    </message>
    <message>
        <source>Bias</source>
        <translation>偏差</translation>
    </message>
    <message>
        <source>Parameter</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Nominal</source>
        <translation>标称值</translation>
    </message>
    <message>
        <source>Fitted</source>
        <translation>拟合值</translation>
    </message>
    <message>
        <source>Std. error</source>
        <translation>标准误差</translation>
    </message>
    <message>
        <source>SI unit</source>
        <translation>SI 单位</translation>
    </message>
    <message>
        <source>calibrated</source>
        <translation>机理校准</translation>
    </message>
    <message>
        <source>identified</source>
        <translation>数据辨识</translation>
    </message>
    <message>
        <source>hybrid</source>
        <translation>混合模型</translation>
    </message>
    <message>
        <source>The training window is empty.</source>
        <translation>训练时间窗为空。</translation>
    </message>
    <message>
        <source>The validation window is empty.</source>
        <translation>验证时间窗为空。</translation>
    </message>
    <message>
        <source>A window reaches outside the historian file.</source>
        <translation>时间窗超出了历史数据文件的范围。</translation>
    </message>
    <message>
        <source>The training and validation windows overlap.</source>
        <translation>训练时间窗与验证时间窗重叠。</translation>
    </message>
    <message>
        <source>Replace the fitted project?</source>
        <translation>替换拟合后的项目？</translation>
    </message>
    <message>
        <source>%1 exists already. Fit again and replace it?</source>
        <translation>%1 已存在。重新拟合并替换它吗？</translation>
    </message>
    <message>
        <source>Cannot fit</source>
        <translation>无法拟合</translation>
    </message>
    <message>
        <source>Fitting...</source>
        <translation>正在拟合……</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>正在取消……</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>Fit failed.</source>
        <translation>拟合失败。</translation>
    </message>
    <message>
        <source>Fit failed</source>
        <translation>拟合失败</translation>
    </message>
    <message>
        <source>Fit cancelled: nothing was written.</source>
        <translation>拟合已取消：未写入任何文件。</translation>
    </message>
    <message>
        <source>Fit finished.</source>
        <translation>拟合完成。</translation>
    </message>
    <message>
        <source>%1 skipped: %2</source>
        <translation>%1 已跳过：%2</translation>
    </message>
    <message>
        <source>No fit yet: run a fit or open a fit report.</source>
        <translation>尚无拟合结果：请运行拟合或打开拟合报告。</translation>
    </message>
    <message>
        <source>Fit report: %1</source>
        <translation>拟合报告：%1</translation>
    </message>
    <message>
        <source>Fitted project: %1</source>
        <translation>拟合后的项目：%1</translation>
    </message>
    <message>
        <source>No fit yet</source>
        <translation>尚未拟合</translation>
    </message>
    <message>
        <source>No hold-out series in this fit report</source>
        <translation>此拟合报告中没有验证数据序列</translation>
    </message>
    <message>
        <source>Residual [%1]</source>
        <translation>残差 [%1]</translation>
    </message>
    <message>
        <source>Open fit report</source>
        <translation>打开拟合报告</translation>
    </message>
    <message>
        <source>Fit report (*.fit.json)</source>
        <translation>拟合报告 (*.fit.json)</translation>
    </message>
    <message>
        <source>Cannot open the fitted project</source>
        <translation>无法打开拟合后的项目</translation>
    </message>
    <message>
        <source>Training:</source>
        <translation>训练：</translation>
    </message>
    <message>
        <source>Validation:</source>
        <translation>验证：</translation>
    </message>
    <message>
        <source>to</source>
        <translation>至</translation>
    </message>
    <message>
        <source>Default split</source>
        <translation>默认划分</translation>
    </message>
    <message>
        <source>Train on the first %1 % of the file and validate on the rest</source>
        <translation>用文件前 %1 % 的数据训练，其余数据验证</translation>
    </message>
    <message>
        <source>Run fit</source>
        <translation>运行拟合</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Open fitted project</source>
        <translation>打开拟合后的项目</translation>
    </message>
    <message>
        <source>Open fit report...</source>
        <translation>打开拟合报告……</translation>
    </message>
    <message>
        <source>Hold-out: measured and predicted</source>
        <translation>验证段：实测值与预测值</translation>
    </message>
    <message>
        <source>Residual (predicted - measured)</source>
        <translation>残差（预测值 - 实测值）</translation>
    </message>
    <message>
        <source>measured</source>
        <translation>实测值</translation>
    </message>
    <message>
        <source>predicted</source>
        <translation>预测值</translation>
    </message>
</context>
<context>
    <name>PlantViews</name>
    <message>
        <source>Cannot show trends and flows</source>
        <translation>无法显示趋势与能流</translation>
    </message>
    <message>
        <source>Loading...</source>
        <translation>正在加载……</translation>
    </message>
    <message>
        <source>Open a project and its historian file to see this view.</source>
        <translation>请打开项目及其历史数据文件以查看此视图。</translation>
    </message>
</context>
<context>
    <name>ProgressPanel</name>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the running operation</source>
        <translation>停止正在运行的操作</translation>
    </message>
</context>
<context>
    <name>ProjectView</name>
    <message>
        <source>Item</source>
        <translation>条目</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
</context>
<context>
    <name>RecommendationsPanel</name>
    <message>
        <source>Tag</source>
        <translation>位号</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Current</source>
        <translation>当前值</translation>
    </message>
    <message>
        <source>Predicted</source>
        <translation>预测值</translation>
    </message>
    <message>
        <source>Recommended</source>
        <translation>建议值</translation>
    </message>
    <message>
        <source>Move</source>
        <translation>调整量</translation>
    </message>
    <message>
        <source>Low limit</source>
        <translation>下限</translation>
    </message>
    <message>
        <source>High limit</source>
        <translation>上限</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>决定</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Predict</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Advise</source>
        <translation>建议</translation>
    </message>
    <message>
        <source>Advisor:</source>
        <translation>优化顾问：</translation>
    </message>
    <message>
        <source>Off: nothing computed; Predict: predicted moves only; Advise: setpoints</source>
        <translation>关闭：不计算；预测：仅显示预测调整；建议：给出设定值</translation>
    </message>
    <message>
        <source>The advisor is off: no recommendation is computed or shown.</source>
        <translation>优化顾问已关闭：不计算也不显示建议。</translation>
    </message>
    <message>
        <source>Note for the next decision (optional)</source>
        <translation>下一个决定的备注（可选）</translation>
    </message>
    <message>
        <source>Decision log</source>
        <translation>决策记录</translation>
    </message>
    <message>
        <source>Save decisions</source>
        <translation>保存决策</translation>
    </message>
    <message>
        <source>Write the decisions next to the project file (they are autosaved anyway)</source>
        <translation>将决策写入项目文件旁（决策已自动保存）</translation>
    </message>
    <message>
        <source>Computing the recommendation...</source>
        <translation>正在计算建议……</translation>
    </message>
    <message>
        <source>No recommendation yet (open a project and its historian file).</source>
        <translation>尚无建议（请打开项目及其历史数据文件）。</translation>
    </message>
    <message>
        <source>Recommendation for %1</source>
        <translation>%1 的建议</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Hold</source>
        <translation>暂缓</translation>
    </message>
    <message>
        <source>Expected saving: unknown</source>
        <translation>预期节省：未知</translation>
    </message>
    <message>
        <source>Expected saving over the horizon: %1</source>
        <translation>预测时域内预期节省：%1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Active constraints: %1</source>
        <translation>起作用的约束：%1</translation>
    </message>
    <message>
        <source>%1; solver status: %2</source>
        <translation>%1；求解状态：%2</translation>
    </message>
    <message>
        <source>Plan: %1</source>
        <translation>方案：%1</translation>
    </message>
    <message>
        <source>Cannot record the decision</source>
        <translation>无法记录决策</translation>
    </message>
    <message>
        <source>Cannot save the decisions</source>
        <translation>无法保存决策</translation>
    </message>
    <message>
        <source>Decisions saved to %1</source>
        <translation>决策已保存到 %1</translation>
    </message>
    <message>
        <source>The advisor failed: %1</source>
        <translation>优化顾问出错：%1</translation>
    </message>
    <message>
        <source>Recommendation failed</source>
        <translation>计算建议失败</translation>
    </message>
    <message>
        <source>Decision log problem</source>
        <translation>决策记录有问题</translation>
    </message>
</context>
<context>
    <name>ReplayClockWidget</name>
    <message>
        <source>As fast as possible</source>
        <translation>尽可能快</translation>
    </message>
    <message>
        <source>Step back</source>
        <translation>后退一步</translation>
    </message>
    <message>
        <source>Go back one control interval</source>
        <translation>后退一个控制周期</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>前进一步</translation>
    </message>
    <message>
        <source>Go forward one control interval</source>
        <translation>前进一个控制周期</translation>
    </message>
    <message>
        <source>Speed:</source>
        <translation>速度：</translation>
    </message>
    <message>
        <source>Simulated seconds per second</source>
        <translation>每秒回放的模拟秒数</translation>
    </message>
    <message>
        <source>Replay time within the recorded history</source>
        <translation>历史记录中的回放时间</translation>
    </message>
    <message>
        <source>No history open</source>
        <translation>未打开历史数据</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Pause the replay</source>
        <translation>暂停回放</translation>
    </message>
    <message>
        <source>Replay the recorded history</source>
        <translation>回放历史记录</translation>
    </message>
</context>
<context>
    <name>ReplayDialog</name>
    <message>
        <source>MPC (economic controller)</source>
        <extracomment>Length of the period proposed when the historian&apos;s span is known: its first day. [ms]</extracomment>
        <translation>MPC（经济优化控制器）</translation>
    </message>
    <message>
        <source>Baseline (rule-based dispatch)</source>
        <translation>基准策略（规则调度）</translation>
    </message>
    <message>
        <source>Recorded (operators&apos; moves)</source>
        <translation>实际运行（操作员操作）</translation>
    </message>
    <message>
        <source>Run replay</source>
        <translation>运行回放</translation>
    </message>
    <message>
        <source>Also run the other controllers for comparison</source>
        <translation>同时运行其他控制器以作对比</translation>
    </message>
    <message>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Historian file</source>
        <translation>历史数据文件</translation>
    </message>
    <message>
        <source>Controller</source>
        <translation>控制器</translation>
    </message>
    <message>
        <source>Start (%1)</source>
        <translation>开始（%1）</translation>
    </message>
    <message>
        <source>End (%1)</source>
        <translation>结束（%1）</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出目录</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>浏览...</translation>
    </message>
    <message>
        <source>Project (*.toml)</source>
        <translation>项目 (*.toml)</translation>
    </message>
    <message>
        <source>Historian (*.h5 *.hdf5)</source>
        <translation>历史数据 (*.h5 *.hdf5)</translation>
    </message>
    <message>
        <source>project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>historian file</source>
        <translation>历史数据文件</translation>
    </message>
    <message>
        <source>output folder</source>
        <translation>输出目录</translation>
    </message>
    <message>
        <source>Please give the %1.</source>
        <translation>请填写：%1。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>Automatic (system language)</source>
        <translation>自动（系统语言）</translation>
    </message>
</context>
<context>
    <name>TagBrowser</name>
    <message>
        <source>Search tag, description or unit</source>
        <translation>搜索位号、描述或单位</translation>
    </message>
</context>
<context>
    <name>TagTableModel</name>
    <message>
        <source>Tag</source>
        <translation>位号</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样周期</translation>
    </message>
    <message>
        <source>Quality</source>
        <translation>数据质量</translation>
    </message>
    <message>
        <source>scanning...</source>
        <translation>扫描中...</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>正常</translation>
    </message>
</context>
<context>
    <name>TrendPanel</name>
    <message>
        <source>At {0}: </source>
        <extracomment>Width of every plot&apos;s left axis (tick labels and unit title). [px] Lines of the crosshair readout shown at once (more scroll). [-] Legend entries per row: a plot of many curves keeps its legend short. [-]</extracomment>
        <translation>{0} 时：</translation>
    </message>
</context>
<context>
    <name>TuningPanel</name>
    <message>
        <source>Cannot use these tune settings</source>
        <translation>无法使用这些整定设置</translation>
    </message>
    <message>
        <source>Not a scheduler address: give host:port or tcp://host:port.</source>
        <translation>不是调度器地址：请填写 host:port 或 tcp://host:port。</translation>
    </message>
    <message>
        <source>Open a project and its historian file to tune.</source>
        <translation>请打开项目及其历史数据文件以进行整定。</translation>
    </message>
    <message>
        <source>Cannot tune this project: %1</source>
        <translation>无法整定此项目：%1</translation>
    </message>
    <message>
        <source>Open the historian file the tune replays.</source>
        <translation>请打开整定所回放的历史数据文件。</translation>
    </message>
    <message>
        <source>%1 holds the trials of an earlier tune: Start resumes it (Start over forgets them).</source>
        <translation>%1 中保存有先前整定的试验：“继续”将接着运行（“重新开始”将丢弃这些试验）。</translation>
    </message>
    <message>
        <source>Cannot tune</source>
        <translation>无法整定</translation>
    </message>
    <message>
        <source>Start the tune over?</source>
        <translation>重新开始整定？</translation>
    </message>
    <message>
        <source>Forget the trials stored in %1?</source>
        <translation>丢弃保存在 %1 中的试验？</translation>
    </message>
    <message>
        <source>Cannot start over</source>
        <translation>无法重新开始</translation>
    </message>
    <message>
        <source>Starting the worker processes...</source>
        <translation>正在启动工作进程……</translation>
    </message>
    <message>
        <source>Connecting to the dask scheduler %1...</source>
        <translation>正在连接 dask 调度器 %1……</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>正在取消……</translation>
    </message>
    <message>
        <source>%1 of %2 trials</source>
        <translation>已完成 %1 / %2 次试验</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>Tune finished.</source>
        <translation>整定完成。</translation>
    </message>
    <message>
        <source>Tune failed.</source>
        <translation>整定失败。</translation>
    </message>
    <message>
        <source>Tune failed</source>
        <translation>整定失败</translation>
    </message>
    <message>
        <source>Tune cancelled: nothing was written; the finished trials are kept.</source>
        <translation>整定已取消：未写入任何文件；已完成的试验已保留。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>No tune yet: the tuned project will be written to %1.</source>
        <translation>尚未整定：整定后的项目将写入 %1。</translation>
    </message>
    <message>
        <source>No trial beats the project&apos;s current settings.</source>
        <translation>没有试验优于项目的当前设置。</translation>
    </message>
    <message>
        <source>Best: trial %1 (keeps every constraint).</source>
        <translation>最优：试验 %1（满足所有约束）。</translation>
    </message>
    <message>
        <source>Best: trial %1 (breaks a constraint).</source>
        <translation>最优：试验 %1（违反约束）。</translation>
    </message>
    <message>
        <source>Tuned project: %1</source>
        <translation>整定后的项目：%1</translation>
    </message>
    <message>
        <source>Cannot open the tuned project</source>
        <translation>无法打开整定后的项目</translation>
    </message>
    <message>
        <source>Trials:</source>
        <translation>试验次数：</translation>
    </message>
    <message>
        <source>Worker processes:</source>
        <translation>工作进程：</translation>
    </message>
    <message>
        <source>Replay windows:</source>
        <translation>回放窗口数：</translation>
    </message>
    <message>
        <source>Window length:</source>
        <translation>窗口长度：</translation>
    </message>
    <message>
        <source>History before the windows:</source>
        <translation>窗口前的历史数据：</translation>
    </message>
    <message>
        <source>Dask scheduler:</source>
        <translation>Dask 调度器：</translation>
    </message>
    <message>
        <source>Trials in total; those finished by an interrupted run count</source>
        <translation>试验总数；中断运行中已完成的试验也计入</translation>
    </message>
    <message>
        <source>Trials replayed at the same time, one per process</source>
        <translation>同时回放的试验数，每个进程一个</translation>
    </message>
    <message>
        <source>empty: local worker processes</source>
        <translation>留空：本地工作进程</translation>
    </message>
    <message>
        <source>Address of a dask.distributed scheduler (host:port or tcp://host:port) whose workers run the trials; they need energyopt and read the historian file by the same path</source>
        <translation>dask.distributed 调度器的地址（host:port 或 tcp://host:port），由其工作节点运行试验；这些节点需安装 energyopt，并按相同路径读取历史数据文件</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Start over</source>
        <translation>重新开始</translation>
    </message>
    <message>
        <source>Open tuned project</source>
        <translation>打开整定后的项目</translation>
    </message>
    <message>
        <source>Tuning</source>
        <translation>参数整定</translation>
    </message>
    <message>
        <source>Tune</source>
        <translation>整定</translation>
    </message>
    <message>
        <source>Parameter</source>
        <extracomment>Colour of a KPI of the best settings outside its constraint bounds.</extracomment>
        <translation>参数</translation>
    </message>
    <message>
        <source>Searched range</source>
        <translation>搜索范围</translation>
    </message>
    <message>
        <source>Project value</source>
        <translation>项目值</translation>
    </message>
    <message>
        <source>Best value</source>
        <translation>最优值</translation>
    </message>
    <message>
        <source>KPI</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>试验</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>Feasible</source>
        <translation>可行</translation>
    </message>
    <message>
        <source>%1 to %2 (log)</source>
        <translation>%1 至 %2（对数）</translation>
    </message>
    <message>
        <source>%1 to %2, step %3</source>
        <translation>%1 至 %2，步长 %3</translation>
    </message>
    <message>
        <source>%1 to %2</source>
        <translation>%1 至 %2</translation>
    </message>
    <message>
        <source>Score (all windows)</source>
        <translation>得分（全部窗口）</translation>
    </message>
    <message>
        <source>it was made for %1</source>
        <translation>它是为 %1 生成的</translation>
    </message>
    <message>
        <source>it replayed %1</source>
        <translation>它回放的是 %1</translation>
    </message>
    <message>
        <source>a tuned setting changed (%1)</source>
        <translation>某个整定参数已改变（%1）</translation>
    </message>
    <message>
        <source>the [tune] section changed (%1)</source>
        <translation>[tune] 段已改变（%1）</translation>
    </message>
    <message>
        <source>the project file was saved after it (%1)</source>
        <translation>项目文件在其之后被保存（%1）</translation>
    </message>
    <message>
        <source>the historian file was modified after it (%1)</source>
        <translation>历史数据文件在其之后被修改（%1）</translation>
    </message>
    <message>
        <source>its tuned project %1 is gone</source>
        <translation>其整定后的项目 %1 已不存在</translation>
    </message>
    <message>
        <source>The stored tune result cannot be read: %1</source>
        <translation>无法读取保存的整定结果：%1</translation>
    </message>
    <message>
        <source>Stored result of %1: still valid, the project and the historian file are as the tune recorded them.</source>
        <translation>%1 保存的整定结果：仍然有效，项目和历史数据文件与整定时记录的一致。</translation>
    </message>
    <message>
        <source>Stored result of %1: it may no longer hold: %2.</source>
        <translation>%1 保存的整定结果：可能已不再适用：%2。</translation>
    </message>
    <message>
        <source>complete</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <source>Preparing the model kernels (first start after an install: a minute)</source>
        <translation>正在准备模型内核（安装后首次启动：约一分钟）</translation>
    </message>
    <message>
        <source>Preparing the model kernels</source>
        <translation>正在准备模型内核</translation>
    </message>
    <message>
        <source>Model kernels ready</source>
        <translation>模型内核已就绪</translation>
    </message>
    <message>
        <source>Model kernels not prepared: {0}</source>
        <translation>模型内核未准备好：{0}</translation>
    </message>
    <message>
        <source>Recommendation ready: {0} setpoints planned in {1:.1f} s</source>
        <translation>建议已就绪：{1:.1f} 秒内规划了 {0} 个设定值</translation>
    </message>
    <message>
        <source>Demo recommendation</source>
        <translation>演示建议</translation>
    </message>
</context>
</TS>
