package bolt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// rssFile returns the file-backed resident memory of the process in kB,
// or -1 where /proc does not tell it.
func rssFile() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// TestReleaseMemory checks that ReleaseMemory drops the pages a full scan
// mapped, and that reads and writes during and after it see the data.
func TestReleaseMemory(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 8<<10)
	const keys = 4000 // about 32 MiB
	for i := 0; i < keys; i += 500 {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < i+500; j++ {
				if err := tx.Put(fmt.Sprintf("k/%05d", j), value); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	scan := func() {
		n := 0
		err := s.View(ctx, func(tx store.ReadTx) error {
			return tx.Scan("k/", "", func(key string, v []byte) error {
				if !bytes.Equal(v, value) {
					return fmt.Errorf("%s: wrong value", key)
				}
				n++
				return nil
			})
		})
		if err != nil || n != keys {
			t.Errorf("scan: %d keys, %v", n, err)
		}
	}
	scan()
	before := rssFile()
	if err := s.ReleaseMemory(); err != nil {
		t.Fatal(err)
	}
	after := rssFile()
	if runtime.GOOS == "linux" && before >= 0 && after > before-(16<<10) {
		t.Errorf("resident file pages %d kB before ReleaseMemory, %d kB after: want 16 MiB less", before, after)
	}
	scan()

	// Concurrent reads, writes and releases.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 5 {
				scan()
				if err := s.ReleaseMemory(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range 20 {
		putKV(t, s, fmt.Sprintf("w/%d", i), strings.Repeat("w", 64<<10))
	}
	wg.Wait()
	scan()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseMemory(); err != store.ErrClosed {
		t.Errorf("ReleaseMemory after Close = %v, want ErrClosed", err)
	}
}
