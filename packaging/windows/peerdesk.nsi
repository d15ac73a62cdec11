; Peerdesk installer for 64-bit Windows, compiled on Linux by scripts/dist.sh
; with makensis (Debian package nsis). It installs per user (no administrator
; needed) or per machine; only the per-machine mode can open the Windows
; Firewall, so only that mode adds the rules.
;
; Defines passed by dist.sh (makensis -DNAME=VALUE):
;   VERSION    x.y.z, from FyneApp.toml
;   VERSION4   x.y.z.build: Windows version resources want four numbers
;   PORT       Peerdesk's default UDP port (node.DefaultPort)
;   STAGE      folder holding peerdesk.exe, peerdesk-cli.exe, peerdesk.ico,
;              THIRD-PARTY-NOTICES.txt
;   OUTFILE    the installer to write
;   SIGN_CMD   optional: a command that signs the file given as its last
;              argument; used to sign the uninstaller embedded in the installer
;
; Command line of the installer: /S (silent), /AllUsers or /CurrentUser,
; /D=DIR (install folder, last argument).

!ifndef VERSION | VERSION4 | PORT | STAGE | OUTFILE
  !error "peerdesk.nsi: pass VERSION, VERSION4, PORT, STAGE and OUTFILE with -D (see scripts/dist.sh)"
!endif

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma

!define APPNAME "Peerdesk"
!define APPID "org.peerdesk.Peerdesk"
!define PUBLISHER "The Peerdesk authors"
!define SETTINGSKEY "Software\Peerdesk"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPID}"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
; The verb key name is what Explorer sorts by; the default value is the label.
!define CTXVERB "Peerdesk.SendToPeer"
; Peers live on office LANs: allow them on private and domain networks, not on
; public ones (cafés, hotels). A PC whose office network is marked Public must
; have it switched to Private.
!define FWPROFILE "private,domain"

; Mixed mode: standard users get a per-user install in
; %LOCALAPPDATA%\Programs\Peerdesk; administrators choose on a page.
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "${APPNAME}"
; Remember the folder and the mode, so an upgrade and the uninstaller find
; the previous install.
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "${SETTINGSKEY}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallDir"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "${SETTINGSKEY}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "InstallMode"
!define MULTIUSER_INSTALLMODE_FUNCTION OnInstallModeChange
!include MultiUser.nsh
!include MUI2.nsh
!include LogicLib.nsh
!include Sections.nsh
!include FileFunc.nsh

Name "${APPNAME}"
OutFile "${OUTFILE}"
BrandingText "${APPNAME} ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

!ifdef SIGN_CMD
  ; The uninstaller is written inside the installer: sign it before that.
  !uninstfinalize '${SIGN_CMD} "%1"' = 0
!endif

!define MUI_ICON "${STAGE}\peerdesk.ico"
!define MUI_UNICON "${STAGE}\peerdesk.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_TEXT "Start Peerdesk"
!define MUI_FINISHPAGE_RUN_FUNCTION LaunchUnelevated
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductName" "${APPNAME}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileDescription" "${APPNAME} installer"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "LegalCopyright" "${PUBLISHER}"

Section "Peerdesk (required)" SecCore
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${STAGE}\peerdesk.exe"
  File "${STAGE}\peerdesk-cli.exe"
  File "${STAGE}\THIRD-PARTY-NOTICES.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\peerdesk.exe" "" "$INSTDIR\peerdesk.exe" 0
  ; Explorer appends the selected files to the shortcut's arguments:
  ; peerdesk.exe send FILE1 FILE2 ... in one process. Windows has no
  ; all-users Send To folder, so this lands in the installing user's profile
  ; in both modes.
  CreateShortcut "$SENDTO\${APPNAME}.lnk" "$INSTDIR\peerdesk.exe" "send" "$INSTDIR\peerdesk.exe" 0

  ; "Send to peer" on files and folders. The GUI exe has no console window,
  ; so nothing flashes; a multi-selection starts one process per item and the
  ; running Peerdesk collects them.
  WriteRegStr SHCTX "Software\Classes\*\shell\${CTXVERB}" "" "Send to peer"
  WriteRegStr SHCTX "Software\Classes\*\shell\${CTXVERB}" "Icon" "$INSTDIR\peerdesk.exe,0"
  WriteRegStr SHCTX "Software\Classes\*\shell\${CTXVERB}\command" "" '"$INSTDIR\peerdesk.exe" send "%1"'
  WriteRegStr SHCTX "Software\Classes\Directory\shell\${CTXVERB}" "" "Send to peer"
  WriteRegStr SHCTX "Software\Classes\Directory\shell\${CTXVERB}" "Icon" "$INSTDIR\peerdesk.exe,0"
  WriteRegStr SHCTX "Software\Classes\Directory\shell\${CTXVERB}\command" "" '"$INSTDIR\peerdesk.exe" send "%1"'
  ; Tell Explorer that verbs changed (SHCNE_ASSOCCHANGED), no logoff needed.
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  WriteRegStr SHCTX "${SETTINGSKEY}" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "${SETTINGSKEY}" "InstallMode" "$MultiUser.InstallMode"
  WriteRegStr SHCTX "${SETTINGSKEY}" "Version" "${VERSION}"

  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\peerdesk.exe,0"
  WriteRegStr SHCTX "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  ; The mode switch makes the uninstaller clean the same hive.
  WriteRegStr SHCTX "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode /S'
  WriteRegDWORD SHCTX "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD SHCTX "${UNINSTKEY}" "EstimatedSize" "$0"
SectionEnd

Section "Start Peerdesk at login" SecAutostart
  ; Per-machine installs start it for every user; each user can still turn
  ; it off (Peerdesk settings, or Task Manager > Startup apps).
  WriteRegStr SHCTX "${RUNKEY}" "${APPNAME}" '"$INSTDIR\peerdesk.exe"'
SectionEnd

Section "Windows Firewall rules (per-machine install)" SecFirewall
  ${If} $MultiUser.InstallMode == "AllUsers"
    Call AddFirewallRules
  ${Else}
    DetailPrint "Firewall rules skipped: a per-user install cannot change the firewall."
  ${EndIf}
SectionEnd

; Called by MultiUser.nsh whenever the mode is set (start, mode page): the
; firewall section is only offered to a per-machine install.
Function OnInstallModeChange
  ${If} $MultiUser.InstallMode == "AllUsers"
    SectionSetFlags ${SecFirewall} ${SF_SELECTED}
  ${Else}
    SectionSetFlags ${SecFirewall} ${SF_RO}
  ${EndIf}
FunctionEnd

!macro FirewallRule NAME PROGRAM PORT
  nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall add rule name="${NAME}" dir=in action=allow protocol=UDP localport=${PORT} program="${PROGRAM}" profile=${FWPROFILE} enable=yes'
  Pop $0
  ${If} $0 != 0
    DetailPrint "netsh could not add the firewall rule ${NAME} (exit $0)"
  ${EndIf}
!macroend

Function AddFirewallRules
  ; Delete first: upgrades and reinstalls must not pile up duplicate rules.
  Call DeleteFirewallRules
  ; Peerdesk's own port, and mDNS for discovery, for the desktop app and for
  ; the headless daemon (peerdesk-cli.exe daemon).
  !insertmacro FirewallRule "Peerdesk (UDP ${PORT})" "$INSTDIR\peerdesk.exe" "${PORT}"
  !insertmacro FirewallRule "Peerdesk (mDNS)" "$INSTDIR\peerdesk.exe" "5353"
  !insertmacro FirewallRule "Peerdesk daemon (UDP ${PORT})" "$INSTDIR\peerdesk-cli.exe" "${PORT}"
  !insertmacro FirewallRule "Peerdesk daemon (mDNS)" "$INSTDIR\peerdesk-cli.exe" "5353"
FunctionEnd

!macro DeleteFirewallRulesBody
  ; netsh fails when no rule has the name; that is the state we want anyway.
  nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="Peerdesk (UDP ${PORT})"'
  Pop $0
  nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="Peerdesk (mDNS)"'
  Pop $0
  nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="Peerdesk daemon (UDP ${PORT})"'
  Pop $0
  nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="Peerdesk daemon (mDNS)"'
  Pop $0
!macroend

Function DeleteFirewallRules
  !insertmacro DeleteFirewallRulesBody
FunctionEnd

Function un.DeleteFirewallRules
  !insertmacro DeleteFirewallRulesBody
FunctionEnd

; An installer elevated for a per-machine install would start Peerdesk as
; administrator; Explorer starts it with the user's normal rights instead.
Function LaunchUnelevated
  Exec '"$WINDIR\explorer.exe" "$INSTDIR\peerdesk.exe"'
FunctionEnd

Function .onInit
  !insertmacro MULTIUSER_INIT
FunctionEnd

Function un.onInit
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

Section "Uninstall"
  ${If} $MultiUser.InstallMode == "AllUsers"
    Call un.DeleteFirewallRules
  ${EndIf}

  DeleteRegKey SHCTX "Software\Classes\*\shell\${CTXVERB}"
  DeleteRegKey SHCTX "Software\Classes\Directory\shell\${CTXVERB}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
  DeleteRegValue SHCTX "${RUNKEY}" "${APPNAME}"
  ; The app's own "start at login" setting writes the current user's Run key.
  DeleteRegValue HKCU "${RUNKEY}" "${APPNAME}"

  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$SENDTO\${APPNAME}.lnk"

  ; A running Peerdesk holds its exe open: remove it at the next restart.
  Delete /REBOOTOK "$INSTDIR\peerdesk.exe"
  Delete /REBOOTOK "$INSTDIR\peerdesk-cli.exe"
  Delete "$INSTDIR\THIRD-PARTY-NOTICES.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir /REBOOTOK "$INSTDIR"

  DeleteRegKey SHCTX "${UNINSTKEY}"
  DeleteRegKey SHCTX "${SETTINGSKEY}"
  ; Each user's Peerdesk data (%APPDATA%\peerdesk: identity, trust, shares)
  ; stays: it is theirs, and reinstalling must keep the same identity.
SectionEnd
