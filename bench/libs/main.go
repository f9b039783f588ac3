//go:debug updatemaxprocs=0

// Command libs is the second start-up reference of bench/sidebyside: a
// program that links every package outside the module that dumpscope's own
// packages import (the terminal UI, HTTPS, the codecs, the command-line
// parser and the standard library's), and dumpscope's start-up packages
// (internal/hugeheap/start, first as in dumpscope, and internal/hugeheap,
// whose ReloadText moves its code into huge pages of the page cache at the
// end of its first run, as dumpscope's), but none of dumpscope's other
// code. It initialises them all and exits.
//
// Against bench/hello (the Go runtime alone) it shows what the libraries'
// initialisation costs; against `dumpscope version`, what dumpscope's own
// code costs: its larger executable to map, set up and tear down, and the
// rest of its start. TestImportsAreDumpscopes keeps the list in step with
// dumpscope's.
package main

import (
	"os"

	"dumpscope/internal/hugeheap"
	_ "dumpscope/internal/hugeheap/start"

	_ "bufio"
	_ "bytes"
	_ "charm.land/bubbles/v2/help"
	_ "charm.land/bubbles/v2/key"
	_ "charm.land/bubbletea/v2"
	_ "charm.land/lipgloss/v2"
	_ "cmp"
	_ "compress/zlib"
	_ "container/heap"
	_ "container/list"
	_ "context"
	_ "crypto/hmac"
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/tls"
	_ "crypto/x509"
	_ "debug/elf"
	_ "embed"
	_ "encoding/binary"
	_ "encoding/hex"
	_ "encoding/json"
	_ "encoding/xml"
	_ "errors"
	_ "fmt"
	_ "github.com/alecthomas/kong"
	_ "github.com/charmbracelet/colorprofile"
	_ "github.com/charmbracelet/x/ansi"
	_ "github.com/charmbracelet/x/term"
	_ "github.com/klauspost/compress/snappy"
	_ "github.com/klauspost/compress/zstd"
	_ "golang.org/x/arch/x86/x86asm"
	_ "hash/crc32"
	_ "hash/fnv"
	_ "hash/maphash"
	_ "image/color"
	_ "io"
	_ "io/fs"
	_ "iter"
	_ "maps"
	_ "math"
	_ "math/bits"
	_ "math/rand/v2"
	_ "mime"
	_ "net"
	_ "net/http"
	_ "net/netip"
	_ "net/url"
	_ "os/exec"
	_ "path/filepath"
	_ "reflect"
	_ "regexp"
	_ "runtime"
	_ "runtime/debug"
	_ "slices"
	_ "sort"
	_ "strconv"
	_ "strings"
	_ "sync"
	_ "sync/atomic"
	_ "syscall"
	_ "text/tabwriter"
	_ "time"
	_ "unicode"
	_ "unicode/utf8"
	_ "unsafe"
)

func main() {
	hugeheap.ReloadText()
	os.Exit(0)
}
