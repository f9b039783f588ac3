package start

// DisabledByGODEBUG reports whether a GODEBUG value sets disablethp=1, the
// runtime's switch against huge pages for the heap; the last setting wins.
// Settings are comma-separated name=value pairs; spaces around a pair are
// ignored, as the runtime ignores them.
func DisabledByGODEBUG(godebug string) bool {
	off := false
	for len(godebug) > 0 {
		kv := godebug
		if i := indexByte(godebug, ','); i >= 0 {
			kv, godebug = godebug[:i], godebug[i+1:]
		} else {
			godebug = ""
		}
		kv = trimSpace(kv)
		if i := indexByte(kv, '='); i >= 0 && kv[:i] == "disablethp" {
			off = kv[i+1:] == "1"
		}
	}
	return off
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// trimSpace drops the ASCII white space around s (package strings would
// make this package initialised later: see the package comment).
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
