package start

// DisabledByGODEBUG reports whether a GODEBUG value turns off the
// runtime's huge pages for the heap, as the runtime reads it: settings are
// comma-separated key=value pairs, the key matched exactly (no spaces
// trimmed), the value a decimal int32 (a value that is not one leaves the
// setting as it was), the last setting wins, and any value but 0 turns
// them off.
func DisabledByGODEBUG(godebug string) bool {
	off := false
	for godebug != "" {
		field := godebug
		if i := indexByte(godebug, ','); i >= 0 {
			field, godebug = godebug[:i], godebug[i+1:]
		} else {
			godebug = ""
		}
		if i := indexByte(field, '='); i >= 0 && field[:i] == "disablethp" {
			if n, ok := parseInt32(field[i+1:]); ok {
				off = n != 0
			}
		}
	}
	return off
}

// parseInt32 parses a decimal int32 with an optional sign, as the
// runtime's strconv.ParseInt(s, 10, 32) accepts it.
func parseInt32(s string) (int32, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		if n = n*10 + int64(s[i]-'0'); n > 1<<31 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	if n > 1<<31-1 {
		return 0, false
	}
	return int32(n), true
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
