<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
        <extracomment>Colour of a band by the medium kind of the network node it touches. Diagram geometry. [scene px] Nodes in stacking order (by column, then declaration order). Position (in stacking order) of the first node of each node&apos;s column.</extracomment>
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
        <extracomment>Samples per block from one pyramid level to the next: memory is about ``2 / (factor - 1)`` of the data, a frame reduces at most ``factor`` blocks per pixel.</extracomment>
        <translation>{0} 时：</translation>
    </message>
</context>
</TS>
