package dist

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// Resource types of a PE .rsrc section that the Windows artifacts must carry.
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

// peResources returns the data of every resource in f by type id (named
// types are skipped), walking the three-level resource directory
// (type, name, language) of the resource data directory.
func peResources(f *pe.File) (map[uint32][][]byte, error) {
	var dd pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		if oh.NumberOfRvaAndSizes <= pe.IMAGE_DIRECTORY_ENTRY_RESOURCE {
			return nil, errors.New("no resource directory")
		}
		dd = oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	case *pe.OptionalHeader32:
		if oh.NumberOfRvaAndSizes <= pe.IMAGE_DIRECTORY_ENTRY_RESOURCE {
			return nil, errors.New("no resource directory")
		}
		dd = oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	default:
		return nil, errors.New("no optional header")
	}
	if dd.VirtualAddress == 0 || dd.Size == 0 {
		return nil, errors.New("empty resource directory")
	}
	for _, s := range f.Sections {
		if dd.VirtualAddress >= s.VirtualAddress && dd.VirtualAddress < s.VirtualAddress+max(s.VirtualSize, s.Size) {
			data, err := s.Data()
			if err != nil {
				return nil, fmt.Errorf("read section %s: %w", s.Name, err)
			}
			return walkResources(data, s.VirtualAddress, dd.VirtualAddress-s.VirtualAddress)
		}
	}
	return nil, errors.New("no section holds the resource directory")
}

// walkResources reads the resource tree at offset root of sec, a section
// loaded at virtual address base. Malformed input gives an error.
func walkResources(sec []byte, base, root uint32) (map[uint32][][]byte, error) {
	out := map[uint32][][]byte{}
	type entry struct{ id, offset uint32 }
	readDir := func(off uint32) ([]entry, error) {
		if uint64(off)+16 > uint64(len(sec)) {
			return nil, fmt.Errorf("directory at %#x out of bounds", off)
		}
		named := binary.LittleEndian.Uint16(sec[off+12:])
		ids := binary.LittleEndian.Uint16(sec[off+14:])
		n := uint64(named) + uint64(ids)
		if uint64(off)+16+8*n > uint64(len(sec)) {
			return nil, fmt.Errorf("directory at %#x: %d entries out of bounds", off, n)
		}
		var es []entry
		for i := uint64(0); i < n; i++ {
			p := uint64(off) + 16 + 8*i
			es = append(es, entry{binary.LittleEndian.Uint32(sec[p:]), binary.LittleEndian.Uint32(sec[p+4:])})
		}
		return es, nil
	}
	const subdir = 0x80000000
	types, err := readDir(root)
	if err != nil {
		return nil, err
	}
	for _, typ := range types {
		if typ.id&subdir != 0 || typ.offset&subdir == 0 {
			continue // named type, or a malformed leaf at the type level
		}
		names, err := readDir(root + typ.offset&^subdir)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if name.offset&subdir == 0 {
				return nil, errors.New("resource name entry is not a directory")
			}
			langs, err := readDir(root + name.offset&^subdir)
			if err != nil {
				return nil, err
			}
			for _, lang := range langs {
				if lang.offset&subdir != 0 {
					return nil, errors.New("resource language entry is not data")
				}
				p := uint64(root) + uint64(lang.offset)
				if p+16 > uint64(len(sec)) {
					return nil, errors.New("resource data entry out of bounds")
				}
				rva := binary.LittleEndian.Uint32(sec[p:])
				size := binary.LittleEndian.Uint32(sec[p+4:])
				if rva < base || uint64(rva-base)+uint64(size) > uint64(len(sec)) {
					return nil, fmt.Errorf("resource data %#x+%d outside the section", rva, size)
				}
				out[typ.id] = append(out[typ.id], sec[rva-base:rva-base+size])
			}
		}
	}
	return out, nil
}

// fixedVersion returns the file and product versions (a.b.c.d) of a
// VS_VERSIONINFO resource, from its VS_FIXEDFILEINFO.
func fixedVersion(res []byte) (file, product string, err error) {
	sig := []byte{0xbd, 0x04, 0xef, 0xfe} // 0xFEEF04BD
	i := bytes.Index(res, sig)
	if i < 0 || i+24 > len(res) {
		return "", "", errors.New("no VS_FIXEDFILEINFO")
	}
	v := func(ms, ls uint32) string {
		return fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
	}
	u := func(k int) uint32 { return binary.LittleEndian.Uint32(res[i+k:]) }
	return v(u(8), u(12)), v(u(16), u(20)), nil
}

// resourceSeed is a minimal resource section loaded at 0x1000: one type (16,
// RT_VERSION) > one name (1) > one language (0x409) > the 4 bytes "data".
func resourceSeed() []byte {
	var b []byte
	dir := func(id, offset uint32) {
		b = append(b, make([]byte, 14)...) // characteristics, time, versions, named count
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint32(b, id)
		b = binary.LittleEndian.AppendUint32(b, offset)
	}
	dir(rtVersion, 0x80000000|24)
	dir(1, 0x80000000|48)
	dir(0x409, 72)
	b = binary.LittleEndian.AppendUint32(b, 0x1000+88) // data RVA
	b = binary.LittleEndian.AppendUint32(b, 4)         // size
	b = append(b, make([]byte, 8)...)                  // code page, reserved
	return append(b, "data"...)
}

func TestWalkResources(t *testing.T) {
	res, err := walkResources(resourceSeed(), 0x1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[rtVersion]) != 1 || string(res[rtVersion][0]) != "data" {
		t.Fatalf("walkResources = %q, want RT_VERSION: [data]", res)
	}
	if _, err := walkResources(resourceSeed()[:40], 0x1000, 0); err == nil {
		t.Error("a truncated section parsed without error")
	}
}

// FuzzWalkResources: any bytes give resources or an error, never a panic.
func FuzzWalkResources(f *testing.F) {
	f.Add(resourceSeed(), uint32(0x1000), uint32(0))
	f.Fuzz(func(t *testing.T, sec []byte, base, root uint32) {
		res, err := walkResources(sec, base, root)
		if err != nil {
			return
		}
		for _, list := range res {
			for _, r := range list {
				_, _, _ = fixedVersion(r)
			}
		}
	})
}
