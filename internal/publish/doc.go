// Package publish keeps the zone snapshot the DNS query path answers from
// in step with the store. Its Publisher loads every zone once, then
// follows the store with Watch from the revision it loaded and, for each
// committed revision, copies the touched parts of the current snapshot
// with a zone.Builder, applies the changed RRsets and swaps the new
// snapshot in. It hands services and endpoints to a ServiceSink (steering)
// before it publishes the snapshot that marks their names steered.
//
// Writers (internal/control) wait with WaitFor until the revision their
// transaction produced is published, so an acknowledged change is served
// by the very next query. With a clustered store engine, each node's
// publisher follows the shared revision stream the same way.
//
// Stored values are read with the codecs of internal/schema; one that
// cannot be read is logged and left out (schema.Skip), so that one bad
// value never stops the publishing of everything else.
package publish
