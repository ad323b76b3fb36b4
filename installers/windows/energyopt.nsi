; energyopt Windows installer (NSIS 3, Unicode).
;
;   makensis /DVERSION=0.1.0 /DPAYLOAD=dist\pyinstaller\energyopt ^
;            /DOUTFILE=dist\energyopt-0.1.0-setup.exe installers\windows\energyopt.nsi
;
; PAYLOAD is the PyInstaller one-folder bundle (energyopt-gui.exe, energyopt.exe,
; _internal\), built on Windows (installers/README.md).  The installer asks
; whether to install for the current user (no administrator rights, into
; %LOCALAPPDATA%\Programs) or for every user (into Program Files), puts a
; Start-menu folder with the app and its uninstaller, registers itself in
; "Apps & features", and speaks English or Simplified Chinese.  The uninstaller
; removes the install folder, the shortcuts and the registry keys; each user's
; settings and numba cache (%LOCALAPPDATA%\energyopt) are theirs and stay.

Unicode true
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef PAYLOAD
  !error "define PAYLOAD: the folder of the PyInstaller bundle (/DPAYLOAD=...)"
!endif
!ifndef OUTFILE
  !define OUTFILE "energyopt-${VERSION}-setup.exe"
!endif
!ifndef ICON
  !define ICON "${__FILEDIR__}\..\icons\energyopt.ico"
!endif

!define APPNAME "energyopt"
!define PUBLISHER "energyopt developers"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPNAME}"

; ---------------------------------------------------------------- per-user or per-machine
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_INSTALLMODE_INSTDIR "${APPNAME}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "Software\${APPNAME}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "InstallMode"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "Software\${APPNAME}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallDir"
!define MULTIUSER_USE_PROGRAMFILES64
!include MultiUser.nsh
!include MUI2.nsh
!include x64.nsh

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
RequestExecutionLevel user ; MultiUser.nsh elevates when "all users" is chosen
ShowInstDetails show
ShowUninstDetails show
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${APPNAME}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "FileDescription" "${APPNAME} installer"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "${PUBLISHER}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_LANGDLL_ALLLANGUAGES
!define MUI_LANGDLL_REGISTRY_ROOT SHCTX
!define MUI_LANGDLL_REGISTRY_KEY "Software\${APPNAME}"
!define MUI_LANGDLL_REGISTRY_VALUENAME "InstallerLanguage"
!define MUI_FINISHPAGE_RUN "$INSTDIR\energyopt-gui.exe"

Var StartMenuFolder
!define MUI_STARTMENUPAGE_DEFAULTFOLDER "${APPNAME}"
!define MUI_STARTMENUPAGE_REGISTRY_ROOT SHCTX
!define MUI_STARTMENUPAGE_REGISTRY_KEY "Software\${APPNAME}"
!define MUI_STARTMENUPAGE_REGISTRY_VALUENAME "StartMenuFolder"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_STARTMENU Application $StartMenuFolder
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_RESERVEFILE_LANGDLL

LangString DESC_APP ${LANG_ENGLISH} "energyopt desktop app"
LangString DESC_APP ${LANG_SIMPCHINESE} "energyopt 能源优化桌面程序"
LangString DESC_UNINSTALL ${LANG_ENGLISH} "Uninstall energyopt"
LangString DESC_UNINSTALL ${LANG_SIMPCHINESE} "卸载 energyopt"

; ---------------------------------------------------------------- install
Section "energyopt" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; A previous version's files go first: a stale module must not shadow a new one.
  RMDir /r "$INSTDIR\_internal"
  File /r "${PAYLOAD}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr SHCTX "Software\${APPNAME}" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "Software\${APPNAME}" "InstallMode" "$MultiUser.InstallMode"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\energyopt-gui.exe"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode /S'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1

  !insertmacro MUI_STARTMENU_WRITE_BEGIN Application
    CreateDirectory "$SMPROGRAMS\$StartMenuFolder"
    CreateShortcut "$SMPROGRAMS\$StartMenuFolder\energyopt.lnk" "$INSTDIR\energyopt-gui.exe" "" "$INSTDIR\energyopt-gui.exe" 0 SW_SHOWNORMAL "" "$(DESC_APP)"
    CreateShortcut "$SMPROGRAMS\$StartMenuFolder\$(DESC_UNINSTALL).lnk" "$INSTDIR\uninstall.exe" "/$MultiUser.InstallMode"
  !insertmacro MUI_STARTMENU_WRITE_END
SectionEnd

Function .onInit
  !insertmacro MULTIUSER_INIT
  !insertmacro MUI_LANGDLL_DISPLAY
FunctionEnd

; ---------------------------------------------------------------- uninstall
Section "Uninstall"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\energyopt-gui.exe"
  Delete "$INSTDIR\energyopt.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  !insertmacro MUI_STARTMENU_GETFOLDER Application $StartMenuFolder
  Delete "$SMPROGRAMS\$StartMenuFolder\energyopt.lnk"
  Delete "$SMPROGRAMS\$StartMenuFolder\$(DESC_UNINSTALL).lnk"
  RMDir "$SMPROGRAMS\$StartMenuFolder"

  DeleteRegKey SHCTX "${UNINST_KEY}"
  DeleteRegKey SHCTX "Software\${APPNAME}"
SectionEnd

Function un.onInit
  !insertmacro MULTIUSER_UNINIT
  !insertmacro MUI_UNGETLANGUAGE
FunctionEnd
