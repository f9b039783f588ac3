package kernel

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"dumpscope/model"
)

// DisasmOptions say what to disassemble.
type DisasmOptions struct {
	// Addr is the address to disassemble around; nil means CPU's
	// instruction pointer.
	Addr *model.VirtAddr
	CPU  int
	// Count is the number of instructions to show (16 when 0); about a
	// quarter of them come before the address when the function's start
	// is known.
	Count int
	// Intel selects Intel syntax instead of GNU (AT&T).
	Intel bool
}

// Disassembly is the code around one address.
type Disassembly struct {
	Addr model.VirtAddr
	// From says where Addr came from ("rip of CPU 0 (prstatus)").
	From string
	// Location is Addr as symbol+offset/size, when kallsyms has it.
	Location     string
	Instructions []model.Instruction
	// Notes say what limited the view (no kallsyms, a page not in the
	// dump).
	Notes []string
}

// x86 limits: no instruction is longer than 15 bytes.
const maxInstLen = 15

// maxLeadIn is how far before the address decoding may start: from the
// containing function's start, when the function is no longer than this.
const maxLeadIn = 1 << 16

// Disassemble decodes instructions around an address. Decoding starts at
// the start of the function that holds the address (x86 code cannot be
// decoded backwards), so the instructions before it are the real ones.
func (k *Kernel) Disassemble(ctx context.Context, o DisasmOptions) (*Disassembly, error) {
	if o.Count <= 0 {
		o.Count = 16
	}
	o.Count = min(o.Count, 4096)
	dis := &Disassembly{}
	var target uint64
	if o.Addr != nil {
		target, dis.From = uint64(*o.Addr), "--vaddr"
	} else {
		pc, set, err := k.pc(o.CPU)
		if err != nil {
			return nil, err
		}
		target, dis.From = pc, fmt.Sprintf("%s of CPU %d (%s)", k.pcName(), o.CPU, set.Source)
	}
	dis.Addr = model.VirtAddr(target)
	var names symNamer
	if _, symErr := k.Symbols(ctx); symErr != nil {
		dis.Notes = append(dis.Notes, "no symbols: "+symErr.Error())
	} else {
		names = k.symbolizer(ctx)
	}
	start := target
	if names != nil {
		if ref, ok := names(target); ok {
			dis.Location = ref.String()
			if ref.Offset <= maxLeadIn {
				start = uint64(ref.Symbol.Addr)
			}
		}
	}
	before := o.Count / 4
	code, readErr := k.readCode(ctx, start, target-start+uint64(o.Count-before+1)*maxInstLen)
	if uint64(len(code)) <= target-start {
		// The function's start is readable but the address is not, or the
		// start is not: try from the address itself.
		start = target
		code, readErr = k.readCode(ctx, start, uint64(o.Count+1)*maxInstLen)
		if len(code) == 0 {
			return nil, k.missing(fmt.Sprintf("code at %#x", target), readErr)
		}
	}
	insts := k.decode(code, start, names, o.Intel, readErr)
	at := -1
	for i, in := range insts {
		if uint64(in.Addr) == target {
			at = i
		}
	}
	if at < 0 {
		dis.Notes = append(dis.Notes, fmt.Sprintf("decoding from %#x does not reach an instruction at %#x; decoding from the address itself", start, target))
		insts = k.decode(code[target-start:], target, names, o.Intel, readErr)
		at = 0
	}
	if readErr != nil && len(code) < int(target-start)+(o.Count-before)*maxInstLen {
		dis.Notes = append(dis.Notes, "code ends early: "+k.missing(fmt.Sprintf("code after %#x", start+uint64(len(code))), readErr).Error())
	}
	insts[at].Marked = true
	from := max(0, at-before)
	dis.Instructions = insts[from:min(len(insts), from+o.Count)]
	return dis, nil
}

// readCode reads up to n bytes of code at va, page by page, and stops at
// the first page that cannot be read, returning what it has and why it
// stopped.
func (k *Kernel) readCode(ctx context.Context, va, n uint64) ([]byte, error) {
	code := make([]byte, 0, n)
	for uint64(len(code)) < n {
		chunk := min(n-uint64(len(code)), k.pageSize-va%k.pageSize)
		buf := make([]byte, chunk)
		if err := k.readVirt(ctx, va, buf); err != nil {
			return code, err
		}
		code, va = append(code, buf...), va+chunk
	}
	return code, nil
}

// decode decodes all of code as instructions at pc. An instruction cut
// off at the end of code is reported as bad, with why the bytes ended
// (readErr) when they did not end by choice.
// symNamer names an address: kallsyms, then the modules' symbols.
type symNamer func(addr uint64) (model.SymbolRef, bool)

func (k *Kernel) decode(code []byte, pc uint64, names symNamer, intel bool, readErr error) []model.Instruction {
	mode := 64
	if k.arch == "i386" {
		mode = 32
	}
	var out []model.Instruction
	for len(code) > 0 {
		inst, err := x86asm.Decode(code, mode)
		in := model.Instruction{Addr: model.VirtAddr(pc)}
		if names != nil {
			if r, ok := names(pc); ok {
				in.Location = symOff(r)
			}
		}
		// A truncated instruction decodes without error as a lone prefix
		// (Op 0) of length 1.
		if err != nil || inst.Op == 0 || inst.Len == 0 {
			if len(code) < maxInstLen {
				// Not enough bytes to tell: the code ends here.
				if readErr != nil {
					in.Bad, in.Text, in.Bytes = true, "(bad)", hex.EncodeToString(code)
					in.Why = "cut off: the next page is not readable"
					out = append(out, in)
				}
				break
			}
			in.Bad, in.Text, in.Bytes = true, "(bad)", hex.EncodeToString(code[:1])
			if err != nil {
				in.Why = err.Error()
			} else {
				in.Why = "not an instruction"
			}
			out = append(out, in)
			code, pc = code[1:], pc+1
			continue
		}
		in.Bytes = hex.EncodeToString(code[:inst.Len])
		// Operands are printed as numbers, as objdump prints them; the
		// symbols are added below (x86asm's own lookup would replace
		// memory operands and immediates by symbol+decimal).
		if intel {
			in.Text = x86asm.IntelSyntax(inst, pc, nil)
		} else {
			in.Text = objdumpMnemonic(x86asm.GNUSyntax(inst, pc, nil), mode)
		}
		for _, a := range inst.Args {
			switch a := a.(type) {
			case x86asm.Rel:
				t := pc + uint64(inst.Len) + uint64(int64(a))
				if mode == 32 {
					t &= 0xffffffff
				}
				va := model.VirtAddr(t)
				in.Target = &va
				if names != nil {
					if r, ok := names(t); ok {
						in.TargetSymbol = symOff(r)
					}
				}
			case x86asm.Mem:
				// A RIP-relative operand: objdump names the address it
				// reaches in a comment ("# ffffffff82e2c1a8 <jiffies>").
				if a.Base == x86asm.RIP {
					t := pc + uint64(inst.Len) + uint64(a.Disp)
					in.Text += fmt.Sprintf("  # %#x", t)
					if names != nil {
						if r, ok := names(t); ok {
							in.Text += " <" + symOff(r) + ">"
						}
					}
				}
			}
		}
		out = append(out, in)
		code, pc = code[inst.Len:], pc+uint64(inst.Len)
	}
	return out
}

// objdumpMnemonic rewrites an instruction in x86asm's GNU syntax with
// objdump's mnemonic: the suffix left out where suffixless says, and a
// rep prefix on ret written repz.
func objdumpMnemonic(text string, mode int) string {
	prefix := ""
	if rest, ok := strings.CutPrefix(text, "rep "); ok {
		prefix, text = "rep ", rest
	}
	op, args, _ := strings.Cut(text, " ")
	op = suffixless(op, mode)
	if prefix == "rep " && op == "ret" {
		prefix = "repz "
	}
	if args != "" {
		op += " " + args
	}
	return prefix + op
}

// suffixless returns a mnemonic x86asm's GNU syntax writes with an
// operand-size suffix as objdump writes it, by mode: binutils leaves the
// suffix out where the size is the mode's default (near call, jmp and
// ret, leave, push, pop, pushf and popf take 64-bit operands in 64-bit
// mode, 32-bit ones in 32-bit mode), as GNU objdump 2.40 prints them;
// x86asm follows older binutils (callq, retq, pushq …). Other mnemonics
// are returned as they are.
func suffixless(op string, mode int) string {
	suffix := ""
	switch mode {
	case 64:
		suffix = "q"
	case 32:
		suffix = "l"
	default:
		return op
	}
	switch base := strings.TrimSuffix(op, suffix); base {
	case "call", "jmp", "ret", "leave", "push", "pop", "pushf", "popf":
		return base
	}
	return op
}

// symOff formats an address as objdump labels it: "name" at a symbol's
// start, "name+0x12" inside.
func symOff(r model.SymbolRef) string {
	s := r.Symbol.Name
	if r.Offset != 0 {
		s = fmt.Sprintf("%s+%#x", r.Symbol.Name, r.Offset)
	}
	if r.Module != "" {
		s += " [" + r.Module + "]"
	}
	return s
}

// Stack bounds: THREAD_SIZE (arch/x86/include/asm/page_{64,32}_types.h) is
// 16 KiB on x86_64 (32 KiB with KASAN) and 8 KiB on i386; the view reads
// from the stack pointer to the end of its THREAD_SIZE-aligned block.
const maxStackWords = 64

// Stack lists the words on a CPU's kernel stack, from its stack pointer up
// to the end of the stack, that point into kernel text: the likely return
// addresses of the call chain, with stale ones among them.
func (k *Kernel) Stack(ctx context.Context, cpu int) ([]model.StackWord, error) {
	sp, _, ok := k.cpuReg(cpu, k.spName())
	if !ok {
		return nil, k.noCPU(cpu, k.spName())
	}
	syms, err := k.Symbols(ctx)
	if err != nil {
		return nil, err
	}
	text := syms.textRanges()
	if len(text) == 0 {
		return nil, &MissingError{File: k.name, What: "the kernel text range",
			Err: fmt.Errorf("kallsyms has no _stext/_etext: %w", model.ErrNotFound)}
	}
	threadSize := uint64(16 << 10)
	if k.arch == "i386" {
		threadSize = 8 << 10
	}
	ws := uint64(k.ptrSize())
	sp &^= ws - 1
	end := (sp | (threadSize - 1)) + 1
	data, readErr := k.readCode(ctx, sp, end-sp)
	if len(data) == 0 && readErr != nil {
		return nil, k.missing(fmt.Sprintf("the stack of CPU %d at %#x", cpu, sp), readErr)
	}
	var out []model.StackWord
	for off := uint64(0); off+ws <= uint64(len(data)) && len(out) < maxStackWords; off += ws {
		v := ptrAt(data[off:], 0, int(ws))
		var r model.SymbolRef
		var ok bool
		if inRanges(text, v) {
			r, ok = syms.Addr(v)
		} else if v < syms.lo || v >= syms.hi {
			// Beyond the image: a module's code, named with its module.
			r, ok = k.Symbolize(ctx, v)
			ok = ok && r.Module != "" && isTextType(r.Symbol.Type)
		}
		if !ok {
			continue
		}
		out = append(out, model.StackWord{Addr: model.VirtAddr(sp + off), Value: model.Hex(v), Symbol: r.String()})
	}
	if readErr != nil && len(out) == 0 {
		return nil, k.missing(fmt.Sprintf("the stack of CPU %d after %#x", cpu, sp+uint64(len(data))), readErr)
	}
	return out, nil
}

// textRanges are [_stext, _etext) and [_sinittext, _einittext).
func (s *Symbols) textRanges() [][2]uint64 {
	var out [][2]uint64
	for _, p := range [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}} {
		a, b := s.Lookup(p[0]), s.Lookup(p[1])
		if len(a) > 0 && len(b) > 0 && a[0].Addr < b[0].Addr {
			out = append(out, [2]uint64{uint64(a[0].Addr), uint64(b[0].Addr)})
		}
	}
	return out
}

func inRanges(rs [][2]uint64, v uint64) bool {
	for _, r := range rs {
		if v >= r[0] && v < r[1] {
			return true
		}
	}
	return false
}
