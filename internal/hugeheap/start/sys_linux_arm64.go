package start

// System call numbers on linux/arm64 (include/uapi/asm-generic/unistd.h).
const (
	sysOpenat    = 56
	sysClose     = 57
	sysRead      = 63
	sysGetrusage = 165
	sysMadvise   = 233
)
