package publish

import (
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/zone"
)

// rrsetLoader applies the RRsets a scan of the store reads to a builder
// on another goroutine, so that reading the store and building the
// snapshot overlap: at a load of a large zone each takes about as long
// as the other. The values passed to add must stay valid until wait
// returns, as they do within the read transaction.
type rrsetLoader struct {
	p    *Publisher
	b    *zone.Builder
	keys schema.RRsetKeyReader
	cur  *loadBatch
	work chan *loadBatch // to the builder
	free chan *loadBatch // back from it
	done chan struct{}
}

// loadBatch is a run of RRsets read from the store.
type loadBatch struct {
	owners []byte // the owners' wire names, one after another
	items  []loadItem
}

type loadItem struct {
	zone       []byte // wire name
	start, end int    // the owner in owners
	t          uint16
	key        string
	value      []byte
}

const (
	loadBatchItems = 1024
	loadBatches    = 8
)

// newRRsetLoader starts a loader into b. Call wait when the scan is over.
func newRRsetLoader(p *Publisher, b *zone.Builder) *rrsetLoader {
	l := &rrsetLoader{p: p, b: b, work: make(chan *loadBatch, loadBatches),
		free: make(chan *loadBatch, loadBatches), done: make(chan struct{})}
	for range loadBatches - 1 {
		l.free <- &loadBatch{}
	}
	l.cur = &loadBatch{}
	go l.run()
	return l
}

func (l *rrsetLoader) run() {
	defer close(l.done)
	for batch := range l.work {
		for _, it := range batch.items {
			l.p.applyRRset(l.b, it.zone, batch.owners[it.start:it.end], it.t, it.key, it.value)
		}
		clear(batch.items) // drop the values: the transaction ends after wait
		batch.items, batch.owners = batch.items[:0], batch.owners[:0]
		l.free <- batch
	}
}

// add queues the stored RRset of key for the builder.
func (l *rrsetLoader) add(key string, value []byte) {
	_, z, owner, t, ok := l.keys.Read(key)
	if !ok {
		schema.Skip(l.p.log, key, schema.BadKey(key))
		return
	}
	c := l.cur
	start := len(c.owners)
	c.owners = append(c.owners, owner...)
	c.items = append(c.items, loadItem{zone: z, start: start, end: len(c.owners), t: t, key: key, value: value})
	if len(c.items) == loadBatchItems {
		l.work <- c
		l.cur = <-l.free
	}
}

// wait returns once the builder has every RRset added.
func (l *rrsetLoader) wait() {
	if len(l.cur.items) > 0 {
		l.work <- l.cur
	}
	close(l.work)
	<-l.done
}
