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
		for len(kv) > 0 && isSpace(kv[0]) {
			kv = kv[1:]
		}
		for len(kv) > 0 && isSpace(kv[len(kv)-1]) {
			kv = kv[:len(kv)-1]
		}
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

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
