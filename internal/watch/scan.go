package watch

import (
	"crypto/sha256"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// hashLimit is the largest file whose content is hashed; larger files are
// judged by size and modification time.
const hashLimit = 1 << 20

// maxHops bounds the symlinks followed on the way to one target, as the
// kernel bounds them.
const maxHops = 40

// entry is what the fingerprint keeps of one path.
type entry struct {
	real  string // resolved path
	mode  fs.FileMode
	size  int64
	mtime int64 // Unix nanoseconds; files over hashLimit only
	sum   [sha256.Size]byte
	err   string // why the path could not be read
}

// snapshot is a fingerprint: an entry per path met, by the name the walk
// met it under (as spec.ReadFiles names it).
type snapshot map[string]entry

func (s snapshot) equal(o snapshot) bool { return maps.Equal(s, o) }

// diff lists the paths whose entries differ between a and b, sorted.
func diff(a, b snapshot) []string {
	var out []string
	for p, e := range b {
		if old, ok := a[p]; !ok || old != e {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// scanner is one walk.
type scanner struct {
	add    func(dir string) error // nil: take no watches
	snap   snapshot
	dirs   map[string]bool        // real directories entered
	files  map[string]entry       // entries by real path, so a file is hashed once
	want   map[string]os.FileInfo // real directories watched by this walk
	ignore []string               // real paths of ignored directories
}

// scan walks the paths as spec.ReadFiles does and fingerprints what it meets.
// With add it also watches every directory that matters, before reading
// from it, and returns them.
func (w *Watcher) scan(add func(dir string) error) (snapshot, map[string]os.FileInfo) {
	snap, want := walkPaths(w.paths, w.ignore, add)
	w.scans.Add(1)
	return snap, want
}

func walkPaths(paths, ignore []string, add func(dir string) error) (snapshot, map[string]os.FileInfo) {
	s := &scanner{
		add:   add,
		snap:  snapshot{},
		dirs:  map[string]bool{},
		files: map[string]entry{},
		want:  map[string]os.FileInfo{},
	}
	for _, p := range ignore {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			s.ignore = append(s.ignore, real)
		} else if abs, err := filepath.Abs(p); err == nil {
			s.ignore = append(s.ignore, abs)
		}
	}
	for _, p := range paths {
		s.followLinks(p)
		info, err := os.Stat(p)
		if err != nil {
			s.fail(p, err)
			continue
		}
		if info.IsDir() {
			s.walk(p)
		} else {
			s.file(p)
		}
	}
	return s.snap, s.want
}

func (s *scanner) fail(p string, err error) {
	s.snap[p] = entry{err: err.Error()}
}

func (s *scanner) ignored(real string) bool {
	for _, ig := range s.ignore {
		if real == ig || strings.HasPrefix(real, ig+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// watch watches the real directory dir, once per walk.
func (s *scanner) watch(dir string) {
	if s.add == nil {
		return
	}
	if _, ok := s.want[dir]; ok {
		return
	}
	info, err := os.Stat(dir)
	if err != nil {
		return
	}
	if s.add(dir) == nil {
		s.want[dir] = info
	}
}

// followLinks resolves p one component at a time, as the kernel does, and
// watches the directory holding every symlink met on the way and the one
// holding the target, so that re-pointing any link or replacing the target
// is an event. If the way breaks off, the deepest directory reached is
// watched: that is where the missing part would appear.
func (s *scanner) followLinks(p string) {
	if s.add == nil {
		return
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return
	}
	vol := filepath.VolumeName(abs)
	done := vol + string(filepath.Separator) // resolved so far: a real path
	rest := splitPath(abs[len(vol):])
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			done = filepath.Dir(done)
			continue
		}
		next := filepath.Join(done, c)
		info, err := os.Lstat(next)
		if err != nil {
			s.watch(done)
			return
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		s.watch(done)
		if hops++; hops > maxHops {
			return
		}
		target, err := os.Readlink(next)
		if err != nil {
			return
		}
		if filepath.IsAbs(target) {
			vol = filepath.VolumeName(target)
			done = vol + string(filepath.Separator)
			target = target[len(vol):]
		}
		rest = append(splitPath(target), rest...)
	}
	s.watch(filepath.Dir(done))
}

func splitPath(p string) []string {
	return strings.Split(filepath.ToSlash(p), "/")
}

// walk enters the directory dir, as spec.ReadFiles does: each real
// directory once, hidden names skipped, visible symlinks followed.
func (s *scanner) walk(dir string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		s.fail(dir, err)
		return
	}
	if s.dirs[real] || s.ignored(real) {
		return
	}
	s.dirs[real] = true
	s.watch(real) // before listing: a change after this is an event
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.fail(dir, err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			s.followLinks(p)
			info, err := os.Stat(p)
			if err != nil {
				s.fail(p, err)
				continue
			}
			isDir = info.IsDir()
		}
		if isDir {
			s.walk(p)
		} else {
			s.file(p)
		}
	}
}

// file fingerprints the file p.
func (s *scanner) file(p string) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		s.fail(p, err)
		return
	}
	if e, ok := s.files[real]; ok {
		s.snap[p] = e
		return
	}
	e, err := fingerprint(real)
	if err != nil {
		s.fail(p, err)
		return
	}
	s.files[real] = e
	s.snap[p] = e
}

func fingerprint(real string) (entry, error) {
	info, err := os.Stat(real)
	if err != nil {
		return entry{}, err
	}
	e := entry{real: real, mode: info.Mode(), size: info.Size()}
	if !info.Mode().IsRegular() || info.Size() > hashLimit {
		// Not read: a FIFO would block, a large file costs too much.
		e.mtime = info.ModTime().UnixNano()
		return e, nil
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return entry{}, err
	}
	e.size = int64(len(data))
	e.sum = sha256.Sum256(data)
	return e, nil
}
