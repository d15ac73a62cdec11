//go:build windows

package app

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The common dialogs of Windows, called directly: GetOpenFileNameW for
// files (several at once) and SHBrowseForFolderW for a folder.
var (
	comdlg32             = windows.NewLazySystemDLL("comdlg32.dll")
	getOpenFileName      = comdlg32.NewProc("GetOpenFileNameW")
	commDlgExtendedError = comdlg32.NewProc("CommDlgExtendedError")
	shell32              = windows.NewLazySystemDLL("shell32.dll")
	shBrowseForFolder    = shell32.NewProc("SHBrowseForFolderW")
	shGetPathFromIDList  = shell32.NewProc("SHGetPathFromIDListW")
	ole32                = windows.NewLazySystemDLL("ole32.dll")
	coInitializeEx       = ole32.NewProc("CoInitializeEx")
	coUninitialize       = ole32.NewProc("CoUninitialize")
	coTaskMemFree        = ole32.NewProc("CoTaskMemFree")
)

// openFileName is OPENFILENAMEW.
type openFileName struct {
	structSize    uint32
	owner         uintptr
	instance      uintptr
	filter        *uint16
	customFilter  *uint16
	maxCustFilter uint32
	filterIndex   uint32
	file          *uint16
	maxFile       uint32
	fileTitle     *uint16
	maxFileTitle  uint32
	initialDir    *uint16
	title         *uint16
	flags         uint32
	fileOffset    uint16
	fileExtension uint16
	defExt        *uint16
	custData      uintptr
	hook          uintptr
	templateName  *uint16
	reserved      uintptr
	reserved2     uint32
	flagsEx       uint32
}

// browseInfo is BROWSEINFOW.
type browseInfo struct {
	owner       uintptr
	root        uintptr
	displayName *uint16
	title       *uint16
	flags       uint32
	callback    uintptr
	param       uintptr
	image       int32
}

const (
	ofnAllowMultiSelect = 0x00000200
	ofnPathMustExist    = 0x00000800
	ofnFileMustExist    = 0x00001000
	ofnExplorer         = 0x00080000
	ofnNoChangeDir      = 0x00000008
	bifReturnOnlyFSDirs = 0x00000001
	bifNewDialogStyle   = 0x00000040
	coinitApartment     = 0x2
	// chooserBuffer holds the chosen paths: 32,768 UTF-16 units, as many
	// as a long path, for several files at once.
	chooserBuffer = 1 << 15
)

// portalPick shows the system's Open dialog (or its folder chooser),
// titled with the destination; a canceled dialog returns no paths. The
// dialogs run their own message loop on the calling thread, which COM
// must know as an apartment.
func portalPick(_ context.Context, p pickRequest) ([]string, error) {
	if getOpenFileName.Find() != nil || shBrowseForFolder.Find() != nil {
		return nil, errNoPortal
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if hr, _, _ := coInitializeEx.Call(0, coinitApartment); int32(hr) >= 0 {
		defer coUninitialize.Call()
	}
	title, err := windows.UTF16PtrFromString(p.title)
	if err != nil {
		return nil, err
	}
	if p.folder {
		return pickWindowsFolder(title)
	}
	buf := make([]uint16, chooserBuffer)
	ofn := openFileName{
		file:    &buf[0],
		maxFile: uint32(len(buf)),
		title:   title,
		flags:   ofnExplorer | ofnPathMustExist | ofnFileMustExist | ofnNoChangeDir,
	}
	ofn.structSize = uint32(unsafe.Sizeof(ofn))
	if p.multiple {
		ofn.flags |= ofnAllowMultiSelect
	}
	if ok, _, _ := getOpenFileName.Call(uintptr(unsafe.Pointer(&ofn))); ok == 0 {
		if code, _, _ := commDlgExtendedError.Call(); code != 0 {
			return nil, fmt.Errorf("file chooser: common dialog error %#x", code)
		}
		return nil, nil // canceled
	}
	return windowsChosenFiles(buf), nil
}

func pickWindowsFolder(title *uint16) ([]string, error) {
	name := make([]uint16, windows.MAX_PATH)
	bi := browseInfo{displayName: &name[0], title: title, flags: bifReturnOnlyFSDirs | bifNewDialogStyle}
	pidl, _, _ := shBrowseForFolder.Call(uintptr(unsafe.Pointer(&bi)))
	if pidl == 0 {
		return nil, nil // canceled
	}
	defer coTaskMemFree.Call(pidl)
	path := make([]uint16, windows.MAX_PATH)
	if ok, _, _ := shGetPathFromIDList.Call(pidl, uintptr(unsafe.Pointer(&path[0]))); ok == 0 {
		return nil, fmt.Errorf("file chooser: the chosen folder has no path")
	}
	return []string{windows.UTF16ToString(path)}, nil
}
