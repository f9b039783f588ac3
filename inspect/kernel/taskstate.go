package kernel

import (
	"context"
	"strings"
)

// A task's state is a bit set in task->__state (task->state before 5.14)
// and task->exit_state. The bit values are #defines of
// include/linux/sched.h, which BTF does not carry, and they moved across
// releases. The kernel's own tables give them, as crash reads them
// (task.c initialize_task_state):
//
//   - kernel/sched/core.c stat_nam[] (2.6.33 to 4.13): one letter per bit,
//     "RSDTtXZxKWPN" in 4.x: index 0 is TASK_RUNNING (0), index i the bit
//     1 << (i-1).
//   - fs/proc/array.c task_state_array[] (every release): "R (running)",
//     "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing
//     stop)", "X (dead)", "Z (zombie)", and from 4.14 "P (parked)" and
//     "I (idle)"; entry 0 is 0, entry i the bit 1 << (i-1). The states
//     beyond it follow TASK_PARKED in sched.h since 4.14 (TASK_DEAD,
//     TASK_WAKEKILL, TASK_WAKING, TASK_NOLOAD, TASK_NEW: the next five
//     bits), and EXIT_DEAD in 2.6.32 to 4.13 (TASK_DEAD, TASK_WAKEKILL,
//     TASK_WAKING: the next three).
//
// The letters are crash's ps column (task.c task_state_string): RU
// running, IN interruptible, UN uninterruptible, ID idle
// (uninterruptible and TASK_NOLOAD), ZO zombie, ST stopped, TR traced,
// DE dead, PA parked, WA waking, NE new, SW swapping.

// taskStates holds the state bits of one kernel.
type taskStates struct {
	running, interruptible, uninterruptible, zombie, stopped uint64
	traced, dead, swapping, parked, waking, noload, new      uint64
	wakekill                                                 uint64
	// from names the table the bits came from.
	from string
}

// maxStateEntries bounds the tables read (a few dozen at most).
const maxStateEntries = 64

func (k *Kernel) taskStateBits(ctx context.Context) (*taskStates, error) {
	return k.objs.states.get(ctx, k.loadTaskStates)
}

func (k *Kernel) loadTaskStates(ctx context.Context) (*taskStates, error) {
	syms, err := k.Symbols(ctx)
	if err != nil {
		return nil, err
	}
	if st, ok := k.statNam(ctx, syms); ok {
		return st, nil
	}
	if st, ok := k.taskStateArray(ctx, syms); ok {
		return st, nil
	}
	// Neither table is named (a kernel without CONFIG_KALLSYMS_ALL, or
	// the tables were not dumped): crash's oldest defaults would be wrong
	// for every kernel since 2.6; take include/linux/sched.h of 4.14 to
	// 7.x, which holds the values of every kernel that lists kallsyms in
	// VMCOREINFO (6.0 and later).
	return &taskStates{running: 0, interruptible: 0x1, uninterruptible: 0x2, stopped: 0x4, traced: 0x8,
		dead: 0x10 | 0x80, zombie: 0x20, parked: 0x40, wakekill: 0x100, waking: 0x200, noload: 0x400, new: 0x800,
		from: "include/linux/sched.h of Linux 4.14 and later (neither stat_nam nor task_state_array could be read)"}, nil
}

// statNam reads kernel/sched/core.c stat_nam[] (2.6.33–4.13).
func (k *Kernel) statNam(ctx context.Context, syms *Symbols) (*taskStates, bool) {
	s := syms.Lookup("stat_nam")
	if len(s) == 0 {
		return nil, false
	}
	n := min(s[0].Size, maxStateEntries)
	if n == 0 {
		n = maxStateEntries
	}
	b := make([]byte, n)
	if k.readVirt(ctx, uint64(s[0].Addr), b) != nil {
		return nil, false
	}
	letters := string(b)
	if i := strings.IndexByte(letters, 0); i >= 0 {
		letters = letters[:i]
	}
	if len(letters) <= len("RSDTtZX") || letters[0] != 'R' {
		return nil, false
	}
	st := &taskStates{from: "stat_nam " + letters}
	for i := 1; i < len(letters); i++ {
		st.set(statNamWords[letters[i]], uint64(1)<<(i-1))
	}
	return st, st.valid()
}

// taskStateArray reads fs/proc/array.c task_state_array[]: pointers to
// "X (word)" strings. Its kallsyms size bounds the entries; the first
// pointer that is not such a string ends it.
func (k *Kernel) taskStateArray(ctx context.Context, syms *Symbols) (*taskStates, bool) {
	s := syms.Lookup("task_state_array")
	if len(s) == 0 {
		return nil, false
	}
	ws := uint64(k.ptrSize())
	n := min(s[0].Size/ws, maxStateEntries)
	if n == 0 {
		n = maxStateEntries
	}
	st := &taskStates{}
	bit := uint64(0)
	var words []string
	for i := uint64(0); i < n; i++ {
		p, err := k.readWord(ctx, uint64(s[0].Addr)+i*ws)
		if err != nil || p == 0 {
			break
		}
		var b [32]byte
		if k.readVirt(ctx, p, b[:]) != nil {
			break
		}
		str := string(b[:])
		end := strings.IndexByte(str, 0)
		if end < 0 || !strings.Contains(str[:end], " (") || !strings.HasSuffix(str[:end], ")") {
			break
		}
		word := str[strings.IndexByte(str, '(')+1 : end-1]
		words = append(words, str[:1])
		st.set(word, bit)
		if bit == 0 {
			bit = 1
		} else {
			bit <<= 1
		}
	}
	switch {
	case st.parked != 0:
		// 4.14+: TASK_DEAD, TASK_WAKEKILL, TASK_WAKING, TASK_NOLOAD and
		// TASK_NEW follow TASK_PARKED.
		st.dead |= st.parked << 1
		st.wakekill, st.waking, st.noload, st.new = st.parked<<2, st.parked<<3, st.parked<<4, st.parked<<5
	case st.dead != 0 && st.dead&(st.dead-1) == 0:
		// 2.6.32–4.13: TASK_DEAD, TASK_WAKEKILL and TASK_WAKING follow
		// EXIT_DEAD.
		d := st.dead
		st.dead |= d << 1
		st.wakekill, st.waking = d<<2, d<<3
	}
	st.from = "task_state_array " + strings.Join(words, "")
	return st, st.valid()
}

// statNamWords names stat_nam's letters by the words task_state_array
// gives the same states, so that both tables set bits through
// taskStates.set ("" for another letter). Index 0 of stat_nam, 'R', is
// TASK_RUNNING (0) and is not looked up.
var statNamWords = [256]string{
	'S': "sleeping", 'D': "disk sleep", 'T': "stopped", 't': "tracing stop",
	'X': "dead", 'x': "dead", 'Z': "zombie", 'K': "wakekill", 'W': "waking",
	'P': "parked", 'N': "noload", 'n': "new",
}

// set records bit as the value of the state task_state_array calls word
// (stat_nam letters come through statNamWords). Dead and traced gather
// every bit named so (EXIT_DEAD and TASK_DEAD; __TASK_TRACED and
// TASK_TRACED); a word dumpscope does not read is passed over.
func (st *taskStates) set(word string, bit uint64) {
	field := map[string]*uint64{
		"running": &st.running, "sleeping": &st.interruptible, "disk sleep": &st.uninterruptible,
		"stopped": &st.stopped, "tracing stop": &st.traced, "dead": &st.dead, "zombie": &st.zombie,
		"swapping": &st.swapping, "wakekill": &st.wakekill, "waking": &st.waking,
		"parked": &st.parked, "noload": &st.noload, "new": &st.new,
	}[word]
	switch {
	case field == nil:
		// a state dumpscope does not read
	case word == "dead" || word == "tracing stop":
		*field |= bit
	default:
		*field = bit
	}
}

// valid requires the states every kernel has, as crash does.
func (st *taskStates) valid() bool {
	return st.interruptible != 0 && st.uninterruptible != 0 && st.zombie != 0 && st.stopped != 0
}

// letters returns crash's two letters for a task's state|exit_state:
// later matches override earlier ones, as in crash's task_state_string.
func (st *taskStates) letters(state uint64) string {
	out := "??"
	set := false
	if state == st.running {
		out = "RU"
	}
	if state&st.interruptible != 0 {
		out, set = "IN", true
	}
	if state&st.uninterruptible != 0 {
		if st.noload != 0 && state&st.noload != 0 {
			out = "ID"
		} else {
			out = "UN"
		}
		set = true
	}
	if state&st.zombie != 0 {
		out, set = "ZO", true
	}
	if state&st.stopped != 0 {
		out, set = "ST", true
	}
	if st.traced != 0 && state&st.traced != 0 {
		out, set = "TR", true
	}
	if st.swapping != 0 && state == st.swapping {
		out, set = "SW", true
	}
	if state&st.dead != 0 && !set {
		out = "DE"
	}
	if st.parked != 0 && state == st.parked {
		out = "PA"
	}
	if st.waking != 0 && state == st.waking {
		out = "WA"
	}
	if st.new != 0 && state == st.new {
		out = "NE"
	}
	return out
}
