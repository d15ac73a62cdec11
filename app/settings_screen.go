package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/internal/human"
	"github.com/peerdesk/peerdesk/node"
)

// settingsStore reads and changes the peer's settings, as `peerdesk
// settings` does (under the node's settings lock).
type settingsStore interface {
	LoadSettings(ctx context.Context) (settingsView, error)
	ChangeSetting(ctx context.Context, key, value string) error
}

// networkChecker runs the network check, as `peerdesk doctor` does.
type networkChecker interface {
	NetworkCheck(ctx context.Context) node.DoctorReport
}

// settingsScreen is the Settings tab.
type settingsScreen struct {
	svc       services
	app       fyne.App
	win       fyne.Window
	loaded    settingsView
	name      *widget.Entry
	port      *widget.Entry
	inbox     *widget.Entry
	auto      *widget.Check
	bg        *widget.Check
	upLimit   *widget.Entry
	downLimit *widget.Entry
	login     *widget.Check
	look      *widget.RadioGroup
	status    *widget.Label
	check     *widget.Button
	openLog   *widget.Button
	autostart autostart
}

func newSettingsScreen(svc services, a fyne.App, win fyne.Window) *settingsScreen {
	return &settingsScreen{svc: svc, app: a, win: win, autostart: defaultAutostart()}
}

func (s *settingsScreen) view() fyne.CanvasObject {
	s.name = widget.NewEntry()
	s.name.Validator = func(v string) error {
		if n := len(strings.TrimSpace(v)); n == 0 || n > 64 {
			return errors.New("a name of 1 to 64 characters")
		}
		return nil
	}
	s.port = widget.NewEntry()
	s.port.Validator = func(v string) error {
		if p, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || p < 1 || p > 65535 {
			return errors.New("a port from 1 to 65535")
		}
		return nil
	}
	s.inbox = widget.NewEntry()
	s.upLimit, s.downLimit = rateEntry(), rateEntry()
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		pickFiles(s.win, s.svc, pickRequest{title: "Where received files go", accept: "Choose", folder: true}, func(paths []string) {
			s.inbox.SetText(paths[0])
		})
	})
	s.auto = widget.NewCheck("Accept files from trusted PCs without asking", nil)
	s.bg = widget.NewCheck("Transfers give way to other network traffic (background mode)", nil)
	s.login = widget.NewCheck("Start Peerdesk when I log in", func(on bool) { s.setLogin(on) })
	if !autostartSupported() {
		s.login.Disable()
	}
	s.look = widget.NewRadioGroup([]string{themeSystem, themeLight, themeDark}, func(choice string) {
		if choice != "" {
			applyTheme(s.app, choice)
		}
	})
	s.look.Horizontal = true
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Name of this PC", s.name),
		widget.NewFormItem("UDP port", s.port),
		widget.NewFormItem("Received files go to", container.NewBorder(nil, nil, nil, browse, s.inbox)),
		widget.NewFormItem("", s.auto),
		widget.NewFormItem("Limit sending to", s.upLimit),
		widget.NewFormItem("Limit receiving to", s.downLimit),
		widget.NewFormItem("", s.bg),
		widget.NewFormItem("", s.login),
		widget.NewFormItem("Look", s.look),
	)
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.save)
	save.Importance = widget.HighImportance
	buttons := container.NewHBox(save)
	if s.svc.network != nil {
		s.check = widget.NewButtonWithIcon("Network check", theme.SearchIcon(), s.networkCheck)
		buttons.Add(s.check)
	}
	if s.svc.logPath != "" {
		s.openLog = widget.NewButtonWithIcon("Open log", theme.DocumentIcon(), s.showLog)
		buttons.Add(s.openLog)
	}
	s.reload()
	return container.NewVBox(form, buttons, s.status)
}

func (s *settingsScreen) reload() {
	s.look.SetSelected(s.app.Preferences().StringWithFallback(prefTheme, themeSystem))
	s.login.SetChecked(autostartSupported() && s.autostart.Enabled())
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
		v, err := s.svc.settings.LoadSettings(ctx)
		cancel()
		s.svc.onUI(func() {
			if err != nil {
				s.status.SetText(humanError(err))
				return
			}
			s.loaded = v
			s.name.SetText(v.Name)
			s.port.SetText(strconv.Itoa(v.Port))
			s.inbox.SetText(v.InboxDir)
			s.auto.SetChecked(v.AutoAccept)
			s.bg.SetChecked(v.Background)
			s.upLimit.SetText(rateText(v.UploadLimit))
			s.downLimit.SetText(rateText(v.DownloadLimit))
		})
	})
}

// save changes what differs from the loaded settings, one setting at a
// time, as `peerdesk settings set` does.
func (s *settingsScreen) save() {
	// A value that cannot be right is said here, before anything is
	// changed, and stays as typed to be corrected.
	for _, e := range []*widget.Entry{s.name, s.port, s.upLimit, s.downLimit} {
		if err := e.Validate(); err != nil {
			s.status.SetText("Not saved: " + err.Error() + ".")
			return
		}
	}
	var changes [][2]string
	if n := strings.TrimSpace(s.name.Text); n != s.loaded.Name {
		changes = append(changes, [2]string{"name", n})
	}
	if p := strings.TrimSpace(s.port.Text); p != strconv.Itoa(s.loaded.Port) {
		changes = append(changes, [2]string{"port", p})
	}
	if in := strings.TrimSpace(s.inbox.Text); in != s.loaded.InboxDir {
		changes = append(changes, [2]string{"inbox", in})
	}
	if s.auto.Checked != s.loaded.AutoAccept {
		changes = append(changes, [2]string{"auto_accept", strconv.FormatBool(s.auto.Checked)})
	}
	if s.bg.Checked != s.loaded.Background {
		changes = append(changes, [2]string{"background", strconv.FormatBool(s.bg.Checked)})
	}
	for _, l := range []struct {
		key   string
		entry *widget.Entry
		was   int64
	}{{"upload_limit", s.upLimit, s.loaded.UploadLimit}, {"download_limit", s.downLimit, s.loaded.DownloadLimit}} {
		if r, _ := human.ParseRate(l.entry.Text); r != l.was {
			changes = append(changes, [2]string{l.key, strings.TrimSpace(l.entry.Text)})
		}
	}
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
		defer cancel()
		for _, c := range changes {
			if err := s.svc.settings.ChangeSetting(ctx, c[0], c[1]); err != nil {
				// What was typed stays (no reload) to be corrected.
				s.svc.onUI(func() {
					s.status.SetText("Not saved: " + humanError(err))
					showError(s.win, "change "+strings.ReplaceAll(c[0], "_", "-"), err)
				})
				return
			}
		}
		s.svc.onUI(func() {
			s.status.SetText("Saved. A new name or port takes effect when Peerdesk next starts.")
			s.reload()
		})
	})
}

// rateEntry is an entry for a transfer limit, empty for none.
func rateEntry() *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder("no limit (e.g. 10 MB/s)")
	e.Validator = func(v string) error {
		if _, err := human.ParseRate(v); err != nil {
			return errors.New("a limit like 10 MB/s, 500 KiB/s or 80 Mbit/s, or empty for none")
		}
		return nil
	}
	return e
}

// rateText is a limit as its entry shows it: empty for none.
func rateText(bytesPerSecond int64) string {
	if bytesPerSecond <= 0 {
		return ""
	}
	return human.Rate(bytesPerSecond)
}

func (s *settingsScreen) setLogin(on bool) {
	if !autostartSupported() || on == s.autostart.Enabled() {
		return
	}
	exe, err := os.Executable()
	if err == nil {
		err = s.autostart.Set(on, exe)
	}
	if err != nil {
		showError(s.win, "change start at login", err)
	}
}

// networkCheck runs the network check in the background and shows its
// report: what discovery uses, each PC both ways, and what to do.
func (s *settingsScreen) networkCheck() {
	s.check.Disable()
	s.status.SetText("Checking the network…")
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r := s.svc.network.NetworkCheck(ctx)
		cancel()
		s.svc.onUI(func() {
			s.check.Enable()
			title := "Network check: no problems"
			s.status.SetText("Network check: no problems found.")
			if !r.Healthy {
				title = fmt.Sprintf("Network check: %d problem(s)", len(r.Problems))
				s.status.SetText(title + ".")
			}
			text := widget.NewLabel(r.Text())
			text.Wrapping = fyne.TextWrapWord
			scroll := container.NewVScroll(text)
			scroll.SetMinSize(fyne.NewSize(560, 320))
			if s.win != nil {
				dialog.ShowCustom(title, "Close", scroll, s.win)
			}
		})
	})
}

// showLog opens the log file in the system's viewer for it.
func (s *settingsScreen) showLog() {
	u, err := url.Parse("file://" + filepath.ToSlash(s.svc.logPath))
	if err == nil {
		err = s.app.OpenURL(u)
	}
	if err != nil {
		s.status.SetText("The log is at " + s.svc.logPath + ".")
		return
	}
	s.status.SetText("Opened " + s.svc.logPath + ".")
}
