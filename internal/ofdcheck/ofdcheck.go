// Package ofdcheck reads an OFD package back and checks its structure
// (ofd.md §10.1): the check every test that makes an OFD runs. With
// EBILL_OFD_XSD naming a folder of the GB/T 33190 schemas (OFD.xsd,
// Document.xsd, Page.xsd, Res.xsd, …), each part is also validated by
// xmllint against its schema; no licence-clean copy of the schemas ships
// with ebill.
package ofdcheck

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Namespace is the OFD namespace.
const Namespace = "http://www.ofdspec.org/2016"

// Package is an OFD read back: its entries, and the TextObjects of its
// first page.
type Package struct {
	Files map[string][]byte
	Texts []Text
}

// Text is a TextObject of the first page.
type Text struct {
	ID       int
	X, Y     float64 // Boundary origin + TextCode X, and the baseline, in mm
	Text     string
	DeltaX   []float64
	FontSize float64
}

// Check is the structural check of ofd.md §10.1: every entry parses as
// XML in the OFD namespace; IDs are unique and none above MaxUnitID; every
// Font and ResourceID names a declared resource, every BaseLoc, FileLoc,
// MediaFile and FontFile an entry of the package; DeltaX has n − 1 plain
// numbers for n characters; TextCode holds no added whitespace. It returns
// the package and every problem found.
func Check(data []byte) (*Package, error) {
	var errs []error
	errorf := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	files, _, err := unzip(data)
	if err != nil {
		return nil, err
	}
	p := &Package{Files: files}
	if _, ok := p.Files["OFD.xml"]; !ok {
		return nil, errors.New("no OFD.xml")
	}
	ids := map[int]string{}
	declared := map[int]string{} // resource ID → kind
	var maxUnit int
	var refs []struct {
		kind string
		id   int
	}
	var locs []string // entries referred to
	for name, raw := range p.Files {
		if !strings.HasSuffix(name, ".xml") {
			continue
		}
		dir := path.Dir(name)
		dec := xml.NewDecoder(bytes.NewReader(raw))
		var stack []string
		var curText *Text
		var boundary []float64
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				return p, fmt.Errorf("%s: %w", name, err)
			}
			switch e := tok.(type) {
			case xml.StartElement:
				if e.Name.Space != Namespace && !strings.HasPrefix(name, "Doc_0/Tags/Tag_") {
					errorf("%s: element %s outside the OFD namespace", name, e.Name.Local)
				}
				stack = append(stack, e.Name.Local)
				attr := map[string]string{}
				for _, a := range e.Attr {
					attr[a.Name.Local] = a.Value
				}
				if v, ok := attr["ID"]; ok && e.Name.Local != "Attachment" {
					id, err := strconv.Atoi(v)
					if err != nil {
						errorf("%s: ID %q", name, v)
					}
					if prev, dup := ids[id]; dup {
						errorf("ID %d twice: %s and %s", id, prev, name)
					}
					ids[id] = name
					if e.Name.Local == "Font" || e.Name.Local == "MultiMedia" {
						declared[id] = e.Name.Local
					}
				}
				if v, ok := attr["Font"]; ok {
					id, _ := strconv.Atoi(v)
					refs = append(refs, struct {
						kind string
						id   int
					}{"Font", id})
				}
				if v, ok := attr["ResourceID"]; ok {
					id, _ := strconv.Atoi(v)
					refs = append(refs, struct {
						kind string
						id   int
					}{"MultiMedia", id})
				}
				if v, ok := attr["BaseLoc"]; ok && e.Name.Local == "Page" {
					locs = append(locs, path.Join(dir, v))
				}
				if e.Name.Local == "TextObject" {
					boundary = nil
					for _, f := range strings.Fields(attr["Boundary"]) {
						v, _ := strconv.ParseFloat(f, 64)
						boundary = append(boundary, v)
					}
					id, _ := strconv.Atoi(attr["ID"])
					size, _ := strconv.ParseFloat(attr["Size"], 64)
					curText = &Text{ID: id, FontSize: size}
				}
				if e.Name.Local == "TextCode" && curText != nil && len(boundary) == 4 {
					x, _ := strconv.ParseFloat(attr["X"], 64)
					y, _ := strconv.ParseFloat(attr["Y"], 64)
					curText.X, curText.Y = boundary[0]+x, boundary[1]+y
					for _, f := range strings.Fields(attr["DeltaX"]) {
						v, err := strconv.ParseFloat(f, 64)
						if err != nil {
							errorf("%s: DeltaX %q is not a plain list", name, attr["DeltaX"])
						}
						curText.DeltaX = append(curText.DeltaX, v)
					}
				}
			case xml.CharData:
				if len(stack) == 0 {
					continue
				}
				text := string(e)
				switch stack[len(stack)-1] {
				case "MaxUnitID":
					maxUnit, _ = strconv.Atoi(strings.TrimSpace(text))
				case "TextCode":
					if curText != nil {
						curText.Text += text
					}
				case "PublicRes", "DocumentRes", "CustomTags", "Attachments", "DocRoot", "Signatures":
					locs = append(locs, path.Join(dir, strings.TrimSpace(text)))
				case "FontFile", "MediaFile":
					locs = append(locs, path.Join(dir, "Res", strings.TrimSpace(text)))
				case "FileLoc":
					locs = append(locs, path.Join(dir, strings.TrimSpace(text)))
				}
			case xml.EndElement:
				if e.Name.Local == "TextObject" && curText != nil {
					if strings.TrimSpace(curText.Text) != curText.Text {
						errorf("TextCode %q has whitespace around it", curText.Text)
					}
					if n := len([]rune(curText.Text)); n > 1 && len(curText.DeltaX) != n-1 {
						errorf("TextCode %q: %d DeltaX values for %d characters", curText.Text, len(curText.DeltaX), n)
					}
					if strings.HasPrefix(name, "Doc_0/Pages/Page_0/") {
						p.Texts = append(p.Texts, *curText)
					}
					curText = nil
				}
				stack = stack[:len(stack)-1]
			}
		}
	}
	for id := range ids {
		if id > maxUnit {
			errorf("ID %d above MaxUnitID %d", id, maxUnit)
		}
	}
	for _, r := range refs {
		if declared[r.id] != r.kind {
			errorf("%s %d is not declared", r.kind, r.id)
		}
	}
	for _, l := range locs {
		if _, ok := p.Files[l]; !ok {
			errorf("%s is referred to and not in the package", l)
		}
	}
	return p, errors.Join(errs...)
}

// XSDEnv names the folder of GB/T 33190 schemas XSD validates against.
const XSDEnv = "EBILL_OFD_XSD"

// schemaOf maps a part's root element to its schema file.
var schemaOf = map[string]string{
	"OFD": "OFD.xsd", "Document": "Document.xsd", "Res": "Res.xsd", "Page": "Page.xsd",
	"Attachments": "Attachments.xsd", "CustomTags": "CustomTags.xsd",
	"Annotations": "Annotations.xsd", "PageAnnot": "Annotation.xsd", "Extensions": "Extensions.xsd",
}

// XSD validates every part in the OFD namespace (signature files aside)
// with xmllint against the schemas in the folder $EBILL_OFD_XSD; without
// it, it does nothing.
func XSD(data []byte) error {
	dir := os.Getenv(XSDEnv)
	if dir == "" {
		return nil
	}
	files, names, err := unzip(data)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ofdxsd")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var errs []error
	for i, name := range names {
		raw := files[name]
		if !strings.HasSuffix(name, ".xml") {
			continue
		}
		root, err := rootElement(raw)
		if err != nil || root.Space != Namespace {
			continue // the tag file's own namespace: no schema
		}
		schema, ok := schemaOf[root.Local]
		if root.Local == "Signatures" || root.Local == "Signature" {
			continue // a signing server's files; the schema's xs:ID MaxSignId rejects what readers write (ofd.md §9)
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no schema for the root %s", name, root.Local))
			continue
		}
		part := filepath.Join(tmp, fmt.Sprintf("part%d.xml", i))
		if err := os.WriteFile(part, raw, 0o600); err != nil {
			return err
		}
		out, err := exec.Command("xmllint", "--noout", "--schema", filepath.Join(dir, schema), part).CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s against %s: %v\n%s", name, schema, err, out))
		}
	}
	return errors.Join(errs...)
}

func rootElement(raw []byte) (xml.Name, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.Name{}, err
		}
		if e, ok := tok.(xml.StartElement); ok {
			return e.Name, nil
		}
	}
}

// TB is the part of testing.TB that Must uses.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Must runs Check and, when the schemas are at hand, XSD on an OFD a test
// made, and fails the test on any problem.
func Must(t TB, data []byte) *Package {
	t.Helper()
	p, err := Check(data)
	if err == nil {
		err = XSD(data)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// unzip reads every entry of the package, and their names in order.
func unzip(data []byte) (map[string][]byte, []string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("not a ZIP: %w", err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		names = append(names, f.Name)
	}
	return files, names, nil
}

// Contains reports whether any entry of the package, as stored
// uncompressed, holds s.
func (p *Package) Contains(s string) bool {
	for _, b := range p.Files {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
