package record

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LockFile is the lock of a run folder. A run holds an OS lock (flock) on
// it while it writes the folder, so a second run into the same folder is
// refused, and a run that crashed leaves no stale lock: the kernel drops
// the lock with the process. The file itself stays, holding the identity
// of the last run that locked the folder.
const LockFile = "run.lock"

// Holder identifies the process that holds, or last held, a run folder's
// lock: the content of run.lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "a process that has not yet said who it is"
	}
	return fmt.Sprintf("pid %d on host %s, started %s", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
}

// LockedError is returned by LockRun when another process holds the
// folder's lock.
type LockedError struct {
	Dir    string
	Holder Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("run folder %s is being written by another run (%s); wait for it to end or choose another --out", e.Dir, e.Holder)
}

// RunLock is a held lock on a run folder.
type RunLock struct {
	f *os.File
}

// LockRun creates dir if needed and locks it for writing, recording this
// process as the holder. It fails with a *LockedError when another
// process holds the lock. Close releases it.
func LockRun(dir string) (*RunLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating run folder: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	// Not O_TRUNC: the holder's identity must survive until the lock is
	// ours.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking run folder: %w", err)
	}
	held, err := tryLock(f, true)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking run folder %s: %w", dir, err)
	}
	if !held {
		h := readHolder(f)
		f.Close()
		return nil, &LockedError{Dir: dir, Holder: h}
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC()})
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking run folder: writing %s: %w", LockFile, err)
	}
	return &RunLock{f: f}, nil
}

// Close releases the lock. The file stays, naming the last holder.
func (l *RunLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Writing reports whether a process holds dir's lock now, and which. A
// folder without a lock file (written by an older mcpload, or never run
// into) is not being written.
func Writing(dir string) (Holder, bool) {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	free, err := tryLock(f, false)
	if err != nil || free {
		return Holder{}, false
	}
	return readHolder(f), true
}

func readHolder(f *os.File) Holder {
	var h Holder
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	// An empty or half-written file (the holder between locking and
	// writing) gives the zero Holder.
	_ = json.Unmarshal(b[:n], &h)
	return h
}
