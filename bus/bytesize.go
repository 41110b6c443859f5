package bus

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes that configuration may spell with a unit:
// "2GiB", "512MiB", "1GB", "64KiB" or plain bytes such as "1048576". Binary
// units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB, GB,
// TB) powers of 1000. It decodes from text (encoding.TextUnmarshaler), which
// the configuration loader uses for every layer, and JSON uses too.
type ByteSize int64

// Common sizes.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
)

// byteUnits lists the accepted suffixes, lower-cased. String prefers the
// binary units, so they come first within each magnitude.
var byteUnits = []struct {
	suffix string
	size   ByteSize
}{
	{"tib", TiB}, {"tb", 1_000_000_000_000}, {"t", TiB},
	{"gib", GiB}, {"gb", 1_000_000_000}, {"g", GiB},
	{"mib", MiB}, {"mb", 1_000_000}, {"m", MiB},
	{"kib", KiB}, {"kb", 1_000}, {"k", KiB},
	{"b", 1},
}

// displayUnits are the spellings String uses, largest first.
var displayUnits = []struct {
	name string
	size ByteSize
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"TB", 1_000_000_000_000}, {"GB", 1_000_000_000}, {"MB", 1_000_000}, {"kB", 1_000},
}

// ParseByteSize parses a size such as "2GiB", "1.5GB", "512 MiB" or "4096".
// Negative sizes are rejected.
func ParseByteSize(s string) (ByteSize, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return 0, errors.New("empty size")
	}
	lower := strings.ToLower(text)
	unit := ByteSize(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(lower, u.suffix) {
			unit = u.size
			lower = strings.TrimSpace(strings.TrimSuffix(lower, u.suffix))
			break
		}
	}
	if lower == "" {
		return 0, fmt.Errorf("size %q has no number", s)
	}
	if n, err := strconv.ParseInt(lower, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("size %q is negative", s)
		}
		if n > math.MaxInt64/int64(unit) {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return ByteSize(n) * unit, nil
	}
	f, err := strconv.ParseFloat(lower, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("size %q is not a number with an optional unit (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("size %q is negative", s)
	}
	total := f * float64(unit)
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(math.Round(total)), nil
}

// String spells the size with the largest unit that divides it exactly,
// binary units first, so that ParseByteSize(b.String()) == b.
func (b ByteSize) String() string {
	if b != 0 {
		for _, u := range displayUnits {
			if b%u.size == 0 {
				return strconv.FormatInt(int64(b/u.size), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// UnmarshalText implements encoding.TextUnmarshaler, used by YAML and JSON.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText implements encoding.TextMarshaler so that printed
// configuration shows "2GiB" rather than 2147483648.
func (b ByteSize) MarshalText() ([]byte, error) {
	return []byte(b.String()), nil
}
