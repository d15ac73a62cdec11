//go:build windows

package printing

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The winspool.drv calls the Windows backend needs. x/sys/windows has no
// spooler bindings, so they are declared here, with the structures they
// fill, exactly as winspool.h lays them out.

var (
	modWinspool           = windows.NewLazySystemDLL("winspool.drv")
	procEnumPrintersW     = modWinspool.NewProc("EnumPrintersW")
	procOpenPrinterW      = modWinspool.NewProc("OpenPrinterW")
	procClosePrinter      = modWinspool.NewProc("ClosePrinter")
	procGetPrinterW       = modWinspool.NewProc("GetPrinterW")
	procGetPrinterDriverW = modWinspool.NewProc("GetPrinterDriverW")
	procStartDocPrinterW  = modWinspool.NewProc("StartDocPrinterW")
	procStartPagePrinter  = modWinspool.NewProc("StartPagePrinter")
	procWritePrinter      = modWinspool.NewProc("WritePrinter")
	procEndPagePrinter    = modWinspool.NewProc("EndPagePrinter")
	procEndDocPrinter     = modWinspool.NewProc("EndDocPrinter")
	procAbortPrinter      = modWinspool.NewProc("AbortPrinter")
	procGetJobW           = modWinspool.NewProc("GetJobW")
	procSetJobW           = modWinspool.NewProc("SetJobW")
)

// SetJobW Command: JOB_CONTROL_DELETE removes the job (JOB_CONTROL_CANCEL
// is obsolete and does the same).
const jobControlDelete = 5

// EnumPrinters flags.
const (
	printerEnumLocal       = 0x00000002
	printerEnumConnections = 0x00000004
)

// PRINTER_INFO_2 Status bits.
const (
	printerStatusPaused           = 0x00000001
	printerStatusError            = 0x00000002
	printerStatusPendingDeletion  = 0x00000004
	printerStatusPaperJam         = 0x00000008
	printerStatusPaperOut         = 0x00000010
	printerStatusManualFeed       = 0x00000020
	printerStatusPaperProblem     = 0x00000040
	printerStatusOffline          = 0x00000080
	printerStatusIOActive         = 0x00000100
	printerStatusBusy             = 0x00000200
	printerStatusPrinting         = 0x00000400
	printerStatusOutputBinFull    = 0x00000800
	printerStatusNotAvailable     = 0x00001000
	printerStatusWaiting          = 0x00002000
	printerStatusProcessing       = 0x00004000
	printerStatusInitializing     = 0x00008000
	printerStatusWarmingUp        = 0x00010000
	printerStatusTonerLow         = 0x00020000
	printerStatusNoToner          = 0x00040000
	printerStatusPagePunt         = 0x00080000
	printerStatusUserIntervention = 0x00100000
	printerStatusOutOfMemory      = 0x00200000
	printerStatusDoorOpen         = 0x00400000
	printerStatusServerUnknown    = 0x00800000
	printerStatusPowerSave        = 0x01000000
)

// PRINTER_INFO_2 Attributes bits.
const printerAttributeWorkOffline = 0x00000400

// JOB_INFO_1 Status bits.
const (
	jobStatusPaused           = 0x00000001
	jobStatusError            = 0x00000002
	jobStatusDeleting         = 0x00000004
	jobStatusSpooling         = 0x00000008
	jobStatusPrinting         = 0x00000010
	jobStatusOffline          = 0x00000020
	jobStatusPaperOut         = 0x00000040
	jobStatusPrinted          = 0x00000080
	jobStatusDeleted          = 0x00000100
	jobStatusBlockedDevQ      = 0x00000200
	jobStatusUserIntervention = 0x00000400
	jobStatusRestart          = 0x00000800
	jobStatusComplete         = 0x00001000
)

// printerInfo2 is PRINTER_INFO_2W.
type printerInfo2 struct {
	ServerName         *uint16
	PrinterName        *uint16
	ShareName          *uint16
	PortName           *uint16
	DriverName         *uint16
	Comment            *uint16
	Location           *uint16
	DevMode            uintptr
	SepFile            *uint16
	PrintProcessor     *uint16
	Datatype           *uint16
	Parameters         *uint16
	SecurityDescriptor uintptr
	Attributes         uint32
	Priority           uint32
	DefaultPriority    uint32
	StartTime          uint32
	UntilTime          uint32
	Status             uint32
	Jobs               uint32
	AveragePPM         uint32
}

// driverInfo2 is DRIVER_INFO_2W. Level 2 is enough (version and data file)
// and, unlike levels 6 and 8, has no 64-bit fields whose alignment differs
// between C and Go on 386.
type driverInfo2 struct {
	Version     uint32
	Name        *uint16
	Environment *uint16
	DriverPath  *uint16
	DataFile    *uint16
	ConfigFile  *uint16
}

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	DocName    *uint16
	OutputFile *uint16
	Datatype   *uint16
}

// jobInfo1 is JOB_INFO_1W.
type jobInfo1 struct {
	JobID        uint32
	PrinterName  *uint16
	MachineName  *uint16
	UserName     *uint16
	Document     *uint16
	Datatype     *uint16
	StatusText   *uint16
	Status       uint32
	Priority     uint32
	Position     uint32
	TotalPages   uint32
	PagesPrinted uint32
	Submitted    windows.Systemtime
}

// printerHandle is an open printer (OpenPrinterW).
type printerHandle uintptr

// winspoolBuf allocates n bytes aligned for the structures above, which the
// spooler writes at the start of the buffer followed by their strings.
func winspoolBuf(n uint32) []byte {
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
}

// fill calls a winspool function of the "ask for the size, then fill the
// buffer" kind; call gets the buffer (nil at first) and its size, and reports
// the size needed.
func fill(call func(buf *byte, size uint32, needed *uint32) error) ([]byte, error) {
	var needed uint32
	err := call(nil, 0, &needed)
	for range 3 { // the data may grow between the calls
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || needed == 0 {
			break
		}
		buf := winspoolBuf(needed)
		if err = call(&buf[0], uint32(len(buf)), &needed); err == nil {
			return buf, nil
		}
	}
	if err == nil {
		// Nothing to return (no printers): the first call succeeded.
		return nil, nil
	}
	return nil, err
}

// boolCall turns the result of a winspool call returning BOOL into an error.
func boolCall(r1, _ uintptr, err error) error {
	if r1 != 0 {
		return nil
	}
	var errno windows.Errno
	if errors.As(err, &errno) && errno != 0 {
		return errno
	}
	return errors.New("winspool call failed without an error code")
}

// The structures returned below point into the buffer the spooler filled,
// which they keep alive.

func enumPrinters() ([]printerInfo2, error) {
	var count uint32
	buf, err := fill(func(buf *byte, size uint32, needed *uint32) error {
		return boolCall(procEnumPrintersW.Call(printerEnumLocal|printerEnumConnections, 0, 2,
			uintptr(unsafe.Pointer(buf)), uintptr(size), uintptr(unsafe.Pointer(needed)), uintptr(unsafe.Pointer(&count))))
	})
	if err != nil || count == 0 || buf == nil {
		return nil, err
	}
	return unsafe.Slice((*printerInfo2)(unsafe.Pointer(&buf[0])), count), nil
}

func openPrinter(name string) (printerHandle, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, fmt.Errorf("printer name %q: %w", name, err)
	}
	var h printerHandle
	if err := boolCall(procOpenPrinterW.Call(uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&h)), 0)); err != nil {
		return 0, err
	}
	return h, nil
}

func (h printerHandle) close() error {
	return boolCall(procClosePrinter.Call(uintptr(h)))
}

// info returns the printer's PRINTER_INFO_2.
func (h printerHandle) info() (*printerInfo2, error) {
	buf, err := fill(func(buf *byte, size uint32, needed *uint32) error {
		return boolCall(procGetPrinterW.Call(uintptr(h), 2, uintptr(unsafe.Pointer(buf)), uintptr(size), uintptr(unsafe.Pointer(needed))))
	})
	if err != nil {
		return nil, err
	}
	if len(buf) < int(unsafe.Sizeof(printerInfo2{})) {
		return nil, errors.New("GetPrinterW returned no PRINTER_INFO_2")
	}
	return (*printerInfo2)(unsafe.Pointer(&buf[0])), nil
}

// driver returns the version and data file of the printer's driver.
func (h printerHandle) driver() (version uint32, dataFile string, err error) {
	buf, err := fill(func(buf *byte, size uint32, needed *uint32) error {
		return boolCall(procGetPrinterDriverW.Call(uintptr(h), 0, 2, uintptr(unsafe.Pointer(buf)), uintptr(size), uintptr(unsafe.Pointer(needed))))
	})
	if err != nil {
		return 0, "", err
	}
	if len(buf) < int(unsafe.Sizeof(driverInfo2{})) {
		return 0, "", errors.New("GetPrinterDriverW returned no DRIVER_INFO_2")
	}
	d := (*driverInfo2)(unsafe.Pointer(&buf[0]))
	return d.Version, windows.UTF16PtrToString(d.DataFile), nil
}

// startDoc starts a job and returns its id.
func (h printerHandle) startDoc(name, datatype string) (uint32, error) {
	pName, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, fmt.Errorf("document name: %w", err)
	}
	pType, err := windows.UTF16PtrFromString(datatype)
	if err != nil {
		return 0, fmt.Errorf("datatype: %w", err)
	}
	di := docInfo1{DocName: pName, Datatype: pType}
	r1, _, callErr := procStartDocPrinterW.Call(uintptr(h), 1, uintptr(unsafe.Pointer(&di)))
	if r1 == 0 {
		return 0, boolCall(0, 0, callErr)
	}
	return uint32(r1), nil
}

func (h printerHandle) startPage() error { return boolCall(procStartPagePrinter.Call(uintptr(h))) }
func (h printerHandle) endPage() error   { return boolCall(procEndPagePrinter.Call(uintptr(h))) }
func (h printerHandle) endDoc() error    { return boolCall(procEndDocPrinter.Call(uintptr(h))) }

// abort deletes the job being written (AbortPrinter).
func (h printerHandle) abort() error { return boolCall(procAbortPrinter.Call(uintptr(h))) }

// write sends all of p to the job.
func (h printerHandle) write(p []byte) error {
	for len(p) > 0 {
		var written uint32
		err := boolCall(procWritePrinter.Call(uintptr(h), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), uintptr(unsafe.Pointer(&written))))
		if err != nil {
			return err
		}
		if written == 0 {
			return errors.New("WritePrinter wrote nothing")
		}
		p = p[written:]
	}
	return nil
}

// deleteJob cancels and removes a job (SetJobW, JOB_CONTROL_DELETE).
func (h printerHandle) deleteJob(id uint32) error {
	return boolCall(procSetJobW.Call(uintptr(h), uintptr(id), 0, 0, jobControlDelete))
}

// job returns the job's JOB_INFO_1.
func (h printerHandle) job(id uint32) (*jobInfo1, error) {
	buf, err := fill(func(buf *byte, size uint32, needed *uint32) error {
		return boolCall(procGetJobW.Call(uintptr(h), uintptr(id), 1, uintptr(unsafe.Pointer(buf)), uintptr(size), uintptr(unsafe.Pointer(needed))))
	})
	if err != nil {
		return nil, err
	}
	if len(buf) < int(unsafe.Sizeof(jobInfo1{})) {
		return nil, errors.New("GetJobW returned no JOB_INFO_1")
	}
	return (*jobInfo1)(unsafe.Pointer(&buf[0])), nil
}
