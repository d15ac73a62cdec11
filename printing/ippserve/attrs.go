package ippserve

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phin1x/go-ipp"
)

// Document formats the endpoint can take, when the printer does.
const (
	formatOctetStream = "application/octet-stream"
	formatPDF         = "application/pdf"
	formatJPEG        = "image/jpeg"
	formatPWGRaster   = "image/pwg-raster"
	formatPostScript  = "application/postscript"
	formatPNG         = "image/png"
)

// detect names a document's format from its first bytes; "" for anything
// the endpoint does not take.
func detect(head []byte) string {
	switch {
	case bytes.HasPrefix(bytes.TrimLeft(head, "\r\n"), []byte("%PDF-")):
		return formatPDF
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return formatJPEG
	case bytes.HasPrefix(head, []byte("RaS2PwgRaster\x00")):
		return formatPWGRaster
	case bytes.HasPrefix(head, []byte("%!")):
		return formatPostScript
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	}
	return ""
}

// formats are the document formats offered: those the printer takes that
// the endpoint can recognise, plus application/octet-stream (auto-sense).
func formats(d Description) []string {
	out := []string{formatOctetStream}
	for _, f := range []string{formatPDF, formatJPEG, formatPWGRaster, formatPostScript, formatPNG} {
		if slices.Contains(d.Formats, f) {
			out = append(out, f)
		}
	}
	return out
}

// mediaRE is PWG 5101.1 self-describing media names as ipp-2.0.test
// checks them (its MEDIA_REGEX): CLASS_NAME_WxHUNIT, with the classes of
// each unit.
var mediaRE = regexp.MustCompile(`^(?:(?:custom|na|asme|roc|oe|roll)_[a-z0-9][-a-z0-9]*_([1-9][0-9]*(?:\.[0-9]*[1-9])?|0\.[0-9]*[1-9])x([1-9][0-9]*(?:\.[0-9]*[1-9])?|0\.[0-9]*[1-9])(in)|(?:custom|iso|jis|jpn|prc|om|roll)_[a-z0-9][-a-z0-9]*_([1-9][0-9]*(?:\.[0-9]*[1-9])?|0\.[0-9]*[1-9])x([1-9][0-9]*(?:\.[0-9]*[1-9])?|0\.[0-9]*[1-9])(mm))$`)

// mediaSize is a media keyword's size in hundredths of millimetres.
func mediaSize(m string) (w, h int, ok bool) {
	p := mediaRE.FindStringSubmatch(m)
	if p == nil {
		return 0, 0, false
	}
	xs, ys, unit := p[1], p[2], p[3]
	if unit == "" {
		xs, ys, unit = p[4], p[5], p[6]
	}
	x, _ := strconv.ParseFloat(xs, 64)
	y, _ := strconv.ParseFloat(ys, 64)
	scale := 100.0
	if unit == "in" {
		scale = 2540
	}
	return int(x*scale + 0.5), int(y*scale + 0.5), x > 0 && y > 0
}

// defaultMedia is offered when the printer named none: the two sizes
// every office printer takes.
var defaultMedia = []string{"iso_a4_210x297mm", "na_letter_8.5x11in"}

// media are the printer's media keywords the endpoint can describe.
func media(d Description) []string {
	var out []string
	for _, m := range d.Media {
		if _, _, ok := mediaSize(m); ok && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return defaultMedia
	}
	return out
}

func mediaDefault(d Description) string {
	m := media(d)
	if slices.Contains(m, d.MediaDefault) {
		return d.MediaDefault
	}
	return m[0]
}

func sides(d Description) []string {
	if d.Duplex {
		return []string{"one-sided", "two-sided-long-edge", "two-sided-short-edge"}
	}
	return []string{"one-sided"}
}

func colorModes(d Description) []string {
	if d.Color {
		return []string{"auto", "color", "monochrome"}
	}
	return []string{"auto", "monochrome"}
}

// Margins offered with every size, in hundredths of millimetres: the
// owner's printer's are not known, so the common laser printer margins
// keep content off the unprintable edge.
const (
	marginTopBottom = 423
	marginLeftRight = 635
)

func mediaCol(m string) ipp.Collection {
	w, h, _ := mediaSize(m)
	return ipp.Collection{
		"media-size": {{Tag: ipp.TagBeginCollection, Value: ipp.Collection{
			"x-dimension": {{Tag: ipp.TagInteger, Value: w}},
			"y-dimension": {{Tag: ipp.TagInteger, Value: h}},
		}}},
		"media-bottom-margin": {{Tag: ipp.TagInteger, Value: marginTopBottom}},
		"media-top-margin":    {{Tag: ipp.TagInteger, Value: marginTopBottom}},
		"media-left-margin":   {{Tag: ipp.TagInteger, Value: marginLeftRight}},
		"media-right-margin":  {{Tag: ipp.TagInteger, Value: marginLeftRight}},
		"media-source":        {{Tag: ipp.TagKeyword, Value: "auto"}},
		"media-type":          {{Tag: ipp.TagKeyword, Value: "auto"}},
	}
}

// operationsSupported are the operations the endpoint implements.
var operationsSupported = []int{
	int(ipp.OperationPrintJob), int(ipp.OperationValidateJob), int(ipp.OperationCreateJob),
	int(ipp.OperationSendDocument), int(ipp.OperationCancelJob), int(ipp.OperationGetJobAttributes),
	int(ipp.OperationGetJobs), int(ipp.OperationGetPrinterAttributes), int(ipp.OperationCancelMyJobs),
	int(ipp.OperationCloseJob), int(ipp.OperationIdentifyPrinter),
}

// requested is the set of attribute names a request asks for, with the
// groups all, printer-description and job-template expanded.
func requested(req *request, all []string) map[string]bool {
	names := req.op1().strs("requested-attributes")
	want := map[string]bool{}
	if len(names) == 0 {
		names = []string{"all"}
	}
	for _, n := range names {
		switch n {
		case "all", "printer-description", "job-template", "job-description", "job-status":
			for _, a := range all {
				want[a] = true
			}
		default:
			want[n] = true
		}
	}
	return want
}

// getPrinterAttributes answers Get-Printer-Attributes with the printer's
// current description.
func (s *Server) getPrinterAttributes(ctx context.Context, req *request) *ipp.Response {
	if f, ok := req.op1().str("document-format"); ok && f != formatOctetStream && !slices.Contains(formats(s.describe(ctx)), f) {
		return status(req, ipp.StatusErrorDocumentFormatNotSupported, "document-format "+f+" not supported")
	}
	attrs := s.printerAttrs(s.describe(ctx))
	all := make([]string, 0, len(attrs))
	for n := range attrs {
		all = append(all, n)
	}
	want := requested(req, all)
	out := ipp.Attributes{}
	for n, v := range attrs {
		if want[n] {
			out[n] = v
		}
	}
	resp := status(req, ipp.StatusOk, "")
	resp.PrinterAttributes = []ipp.Attributes{out}
	return resp
}

func one(v any) []ipp.Attribute { return []ipp.Attribute{{Value: v}} }

// many is a multi-valued attribute: go-ipp's encoder takes the values as
// one typed slice ([]string, []int, []ipp.Collection).
func many[T any](vs []T) []ipp.Attribute { return []ipp.Attribute{{Value: vs}} }

func clip(s string, n int) string {
	for len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

func (s *Server) printerAttrs(d Description) ipp.Attributes {
	s.mu.Lock()
	queued := 0
	for _, j := range s.jobs {
		if !j.done() {
			queued++
		}
	}
	stateAt := s.stateAt
	s.mu.Unlock()
	host := strings.TrimPrefix(s.uri, "ipp://")
	host, _, _ = strings.Cut(host, "/")
	web := "http://" + host + "/"
	state, reasons := int(ipp.PrinterStateIdle), []string{"none"}
	switch d.State {
	case StateProcessing:
		state = int(ipp.PrinterStateProcessing)
	case StateStopped:
		state, reasons = int(ipp.PrinterStateStopped), []string{"paused"}
	}
	if !d.Accepting && state != int(ipp.PrinterStateStopped) {
		reasons = []string{"other-warning"}
	}
	mediaList, mDefault := media(d), mediaDefault(d)
	cols := make([]ipp.Collection, len(mediaList))
	sizes := make([]ipp.Collection, len(mediaList))
	for i, m := range mediaList {
		cols[i] = mediaCol(m)
		sizes[i] = cols[i]["media-size"][0].Value.(ipp.Collection)
	}
	fs := formats(d)
	var cmd []string
	for _, f := range fs[1:] {
		cmd = append(cmd, map[string]string{formatPDF: "PDF", formatJPEG: "JPEG", formatPWGRaster: "PWGRaster",
			formatPostScript: "POSTSCRIPT", formatPNG: "PNG"}[f])
	}
	model := clip(orDefault(d.MakeModel, "Peerdesk shared printer"), 127)
	deviceID := fmt.Sprintf("MFG:Peerdesk;MDL:%s;CMD:%s;", strings.NewReplacer(";", " ", ":", " ").Replace(model), strings.Join(cmd, ","))
	rasterTypes := []string{"sgray_8"}
	if d.Color {
		rasterTypes = append(rasterTypes, "srgb_8")
	}
	ppm := max(d.PagesPerMinute, 1)
	a := ipp.Attributes{
		"charset-configured":                   one("utf-8"),
		"charset-supported":                    many([]string{"utf-8", "us-ascii"}),
		"color-supported":                      one(d.Color),
		"compression-supported":                one("none"),
		"copies-default":                       one(1),
		"copies-supported":                     one(rangeOf(1, max(d.CopiesMax, 1))),
		"document-format-default":              one(formatOctetStream),
		"document-format-supported":            many(fs),
		"finishings-default":                   one(3),
		"finishings-supported":                 one(3),
		"generated-natural-language-supported": one("en"),
		"identify-actions-default":             one("display"),
		"identify-actions-supported":           one("display"),
		"ipp-features-supported":               one("ipp-everywhere"),
		"ipp-versions-supported":               many([]string{"1.1", "2.0"}),
		"job-creation-attributes-supported": many([]string{"copies", "ipp-attribute-fidelity", "job-name",
			"media", "media-col", "page-ranges", "print-color-mode", "sides"}),
		"job-ids-supported":                  one(true),
		"job-sheets-default":                 one("none"),
		"job-sheets-supported":               one("none"),
		"media-bottom-margin-supported":      one(marginTopBottom),
		"media-top-margin-supported":         one(marginTopBottom),
		"media-left-margin-supported":        one(marginLeftRight),
		"media-right-margin-supported":       one(marginLeftRight),
		"media-col-database":                 many(cols),
		"media-col-default":                  one(mediaCol(mDefault)),
		"media-col-ready":                    one(mediaCol(mDefault)),
		"media-col-supported":                many([]string{"media-bottom-margin", "media-left-margin", "media-right-margin", "media-size", "media-source", "media-top-margin", "media-type"}),
		"media-default":                      one(mDefault),
		"media-ready":                        one(mDefault),
		"media-supported":                    many(mediaList),
		"media-size-supported":               many(sizes),
		"media-source-supported":             one("auto"),
		"media-type-supported":               one("auto"),
		"multiple-document-jobs-supported":   one(false),
		"multiple-operation-time-out":        one(int(createTimeout / time.Second)),
		"multiple-operation-time-out-action": one("abort-job"),
		"natural-language-configured":        one("en"),
		"number-up-default":                  one(1),
		"number-up-supported":                one(1),
		"operations-supported":               many(operationsSupported),
		"orientation-requested-default":      one(3),
		"orientation-requested-supported":    one(3),
		"output-bin-default":                 one("auto"),
		"output-bin-supported":               one("auto"),
		"pages-per-minute":                   one(ppm),
		"pdl-override-supported":             one("attempted"),
		"preferred-attributes-supported":     one(false),
		"print-color-mode-default":           one("auto"),
		"print-color-mode-supported":         many(colorModes(d)),
		"print-content-optimize-default":     one("auto"),
		"print-content-optimize-supported":   one("auto"),
		"print-quality-default":              one(4),
		"print-quality-supported":            one(4),
		"print-rendering-intent-default":     one("auto"),
		"print-rendering-intent-supported":   one("auto"),
		"printer-config-change-date-time":    one(dateTime(s.started)),
		"printer-config-change-time":         one(1),
		"printer-device-id":                  one(deviceID),
		"printer-geo-location":               one(""),
		"printer-get-attributes-supported":   one("document-format"),
		"printer-icons":                      one(web + "icon.png"),
		"printer-info":                       one(clip(orDefault(d.Info, s.cfg.Name), 127)),
		"printer-is-accepting-jobs":          one(d.Accepting),
		"printer-location":                   one("Shared through Peerdesk"),
		"printer-make-and-model":             one(model),
		"printer-more-info":                  one(web),
		"printer-name":                       one(s.cfg.Name),
		"printer-organization":               one(""),
		"printer-organizational-unit":        one(""),
		"printer-resolution-default":         one(dpi(300, 300)),
		"printer-resolution-supported":       one(dpi(300, 300)),
		"printer-state":                      one(state),
		"printer-state-change-date-time":     one(dateTime(stateAt)),
		"printer-state-change-time":          one(int(stateAt.Sub(s.started)/time.Second) + 1),
		"printer-state-message":              one(clip(d.Message, 255)),
		"printer-state-reasons":              many(reasons),
		// The owner's supply levels do not travel: level -2 is PWG
		// 5100.18's "unknown".
		"printer-supply":                           one("index=1;class=supplyThatIsConsumed;type=other;unit=percent;maxcapacity=100;level=-2;"),
		"printer-supply-description":               one("Supplies of the shared printer (not reported)"),
		"printer-supply-info-uri":                  one(web),
		"printer-up-time":                          one(int(time.Since(s.started)/time.Second) + 1),
		"printer-uri-supported":                    one(s.uri),
		"printer-uuid":                             one(s.cfg.UUID),
		"pwg-raster-document-resolution-supported": one(dpi(300, 300)),
		"pwg-raster-document-sheet-back":           one("normal"),
		"pwg-raster-document-type-supported":       many(rasterTypes),
		"queued-job-count":                         one(queued),
		"sides-default":                            one("one-sided"),
		"sides-supported":                          many(sides(d)),
		"uri-authentication-supported":             one("none"),
		"uri-security-supported":                   one("none"),
		"which-jobs-supported":                     many(whichJobs),
	}
	if d.Color {
		a["pages-per-minute-color"] = one(ppm)
	}
	if slices.Contains(fs, formatPDF) {
		a["page-ranges-supported"] = one(true)
	}
	if !slices.Contains(fs, formatPWGRaster) {
		delete(a, "pwg-raster-document-resolution-supported")
		delete(a, "pwg-raster-document-sheet-back")
		delete(a, "pwg-raster-document-type-supported")
	}
	return a
}

// allJobAttrs are the job attributes the endpoint keeps.
var allJobAttrs = []string{
	"job-id", "job-uri", "job-printer-uri", "job-name", "job-originating-user-name", "job-state",
	"job-state-reasons", "job-state-message", "time-at-creation", "time-at-processing",
	"time-at-completed", "date-time-at-creation", "date-time-at-processing", "date-time-at-completed",
	"job-printer-up-time", "number-of-intervening-jobs", "copies", "job-k-octets", "media",
	"sides", "print-color-mode", "page-ranges", "document-format",
}

// jobCreationAttrs answer Print-Job, Create-Job and Send-Document.
var jobCreationAttrs = map[string]bool{"job-id": true, "job-uri": true, "job-state": true,
	"job-state-reasons": true, "job-state-message": true, "number-of-intervening-jobs": true}

func (s *Server) jobAttrsLocked(j *job, want map[string]bool) ipp.Attributes {
	up := func(t time.Time) int { return int(t.Sub(s.started)/time.Second) + 1 }
	a := ipp.Attributes{
		"job-id":                     one(j.ID),
		"job-uri":                    one(fmt.Sprintf("%s/jobs/%d", s.uri, j.ID)),
		"job-printer-uri":            one(s.uri),
		"job-name":                   one(j.Name),
		"job-originating-user-name":  one(j.User),
		"job-state":                  one(int(j.state)),
		"job-state-reasons":          many(j.reasons),
		"job-state-message":          one(clip(j.message, 255)),
		"time-at-creation":           one(up(j.created)),
		"date-time-at-creation":      one(dateTime(j.created)),
		"job-printer-up-time":        one(up(time.Now())),
		"copies":                     one(j.Copies),
		"job-k-octets":               one(int((j.Size + 1023) / 1024)),
		"number-of-intervening-jobs": one(s.interveningLocked(j)),
	}
	if !j.processed.IsZero() {
		a["time-at-processing"] = one(up(j.processed))
		a["date-time-at-processing"] = one(dateTime(j.processed))
	}
	if !j.completed.IsZero() {
		a["time-at-completed"] = one(up(j.completed))
		a["date-time-at-completed"] = one(dateTime(j.completed))
	}
	if j.Format != "" {
		a["document-format"] = one(j.Format)
	}
	for name, v := range map[string]string{"media": j.Media, "sides": j.Sides, "print-color-mode": j.ColorMode} {
		if v != "" {
			a[name] = one(v)
		}
	}
	if len(j.PageRanges) > 0 {
		rs := make([]string, len(j.PageRanges))
		for i, r := range j.PageRanges {
			rs[i] = rangeOf(r[0], r[1])
		}
		a["page-ranges"] = many(rs)
	}
	for n := range a {
		if !want[n] {
			delete(a, n)
		}
	}
	return a
}

func (s *Server) interveningLocked(j *job) int {
	n := 0
	for _, o := range s.jobs {
		if o == j {
			break
		}
		if !o.done() {
			n++
		}
	}
	return n
}

// attrTags are the IPP value tags of the attributes the endpoint sends
// that go-ipp's encoder does not know (it picks the tag by name).
var attrTags = map[string]int8{
	"charset-configured": ipp.TagCharset, "charset-supported": ipp.TagCharset,
	"color-supported": ipp.TagBoolean, "compression-supported": ipp.TagKeyword,
	"copies-default": ipp.TagInteger, "copies-supported": ipp.TagRange,
	"document-format-default": ipp.TagMimeType, "document-format-supported": ipp.TagMimeType,
	"document-format":    ipp.TagMimeType,
	"finishings-default": ipp.TagEnum, "finishings-supported": ipp.TagEnum,
	"generated-natural-language-supported": ipp.TagLanguage,
	"identify-actions-default":             ipp.TagKeyword, "identify-actions-supported": ipp.TagKeyword,
	"ipp-features-supported": ipp.TagKeyword, "ipp-versions-supported": ipp.TagKeyword,
	"job-creation-attributes-supported": ipp.TagKeyword, "job-ids-supported": ipp.TagBoolean,
	"job-sheets-default": ipp.TagKeyword, "job-sheets-supported": ipp.TagKeyword,
	"media-bottom-margin-supported": ipp.TagInteger, "media-top-margin-supported": ipp.TagInteger,
	"media-left-margin-supported": ipp.TagInteger, "media-right-margin-supported": ipp.TagInteger,
	"media-col-database": ipp.TagBeginCollection, "media-col-default": ipp.TagBeginCollection,
	"media-col-ready": ipp.TagBeginCollection, "media-col-supported": ipp.TagKeyword,
	"media-default": ipp.TagKeyword, "media-ready": ipp.TagKeyword, "media-supported": ipp.TagKeyword,
	"media-size-supported": ipp.TagBeginCollection, "media-source-supported": ipp.TagKeyword,
	"media-type-supported": ipp.TagKeyword, "multiple-document-jobs-supported": ipp.TagBoolean,
	"multiple-operation-time-out": ipp.TagInteger, "multiple-operation-time-out-action": ipp.TagKeyword,
	"natural-language-configured": ipp.TagLanguage, "number-up-default": ipp.TagInteger,
	"number-up-supported": ipp.TagInteger, "operations-supported": ipp.TagEnum,
	"orientation-requested-default": ipp.TagEnum, "orientation-requested-supported": ipp.TagEnum,
	"output-bin-default": ipp.TagKeyword, "output-bin-supported": ipp.TagKeyword,
	"page-ranges-supported": ipp.TagBoolean, "pages-per-minute": ipp.TagInteger,
	"pages-per-minute-color": ipp.TagInteger, "pdl-override-supported": ipp.TagKeyword,
	"preferred-attributes-supported": ipp.TagBoolean,
	"print-color-mode-default":       ipp.TagKeyword, "print-color-mode-supported": ipp.TagKeyword,
	"print-content-optimize-default": ipp.TagKeyword, "print-content-optimize-supported": ipp.TagKeyword,
	"print-quality-default": ipp.TagEnum, "print-quality-supported": ipp.TagEnum,
	"print-rendering-intent-default": ipp.TagKeyword, "print-rendering-intent-supported": ipp.TagKeyword,
	"printer-config-change-date-time": ipp.TagDate, "printer-config-change-time": ipp.TagInteger,
	"printer-device-id": ipp.TagText, "printer-geo-location": ipp.TagUnknown,
	"printer-get-attributes-supported": ipp.TagKeyword, "printer-icons": ipp.TagUri,
	"printer-info": ipp.TagText, "printer-is-accepting-jobs": ipp.TagBoolean,
	"printer-location": ipp.TagText, "printer-make-and-model": ipp.TagText,
	"printer-more-info": ipp.TagUri, "printer-name": ipp.TagName,
	"printer-organization": ipp.TagText, "printer-organizational-unit": ipp.TagText,
	"printer-resolution-default": ipp.TagResolution, "printer-resolution-supported": ipp.TagResolution,
	"printer-state": ipp.TagEnum, "printer-state-change-date-time": ipp.TagDate,
	"printer-state-change-time": ipp.TagInteger, "printer-state-message": ipp.TagText,
	"printer-state-reasons": ipp.TagKeyword, "printer-supply": ipp.TagString,
	"printer-supply-description": ipp.TagText, "printer-supply-info-uri": ipp.TagUri,
	"printer-up-time": ipp.TagInteger, "printer-uri-supported": ipp.TagUri,
	"printer-uuid": ipp.TagUri, "pwg-raster-document-resolution-supported": ipp.TagResolution,
	"pwg-raster-document-sheet-back": ipp.TagKeyword, "pwg-raster-document-type-supported": ipp.TagKeyword,
	"queued-job-count": ipp.TagInteger, "sides-default": ipp.TagKeyword, "sides-supported": ipp.TagKeyword,
	"uri-authentication-supported": ipp.TagKeyword, "uri-security-supported": ipp.TagKeyword,
	"which-jobs-supported": ipp.TagKeyword,
	"job-id":               ipp.TagInteger, "job-uri": ipp.TagUri, "job-printer-uri": ipp.TagUri,
	"job-name": ipp.TagName, "job-originating-user-name": ipp.TagName, "job-state": ipp.TagEnum,
	"job-state-reasons": ipp.TagKeyword, "job-state-message": ipp.TagText,
	"time-at-creation": ipp.TagInteger, "time-at-processing": ipp.TagInteger,
	"time-at-completed": ipp.TagInteger, "date-time-at-creation": ipp.TagDate,
	"date-time-at-processing": ipp.TagDate, "date-time-at-completed": ipp.TagDate,
	"job-printer-up-time": ipp.TagInteger, "number-of-intervening-jobs": ipp.TagInteger,
	"copies": ipp.TagInteger, "job-k-octets": ipp.TagInteger, "media": ipp.TagKeyword,
	"sides": ipp.TagKeyword, "print-color-mode": ipp.TagKeyword, "page-ranges": ipp.TagRange,
	"status-message": ipp.TagText,
}

// init adds attrTags to go-ipp's name → tag table. Two of them correct it:
// go-ipp v1.7.0 maps job-state-reasons and job-state-message to
// octetString where RFC 8011 types them keyword and text (ipptool fails
// every job response for it). Only responses carry them, and go-ipp's
// client only encodes requests, so no other user of the table changes.
func init() {
	for n, t := range attrTags {
		ipp.AttributeTagMapping[n] = t
	}
}

// iconPNG is printer-icons: a 128×128 printer silhouette.
var iconPNG = sync.OnceValue(func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 128, 128))
	body := color.RGBA{0x2d, 0x6c, 0xdf, 0xff}
	paper := color.RGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < 128; y++ {
		for x := 0; x < 128; x++ {
			switch {
			case x >= 32 && x < 96 && y >= 12 && y < 44, x >= 32 && x < 96 && y >= 84 && y < 116:
				img.Set(x, y, paper)
			case x >= 12 && x < 116 && y >= 40 && y < 92:
				img.Set(x, y, body)
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
})
