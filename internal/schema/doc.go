// Package schema owns the layout of Stratus's store: the keys, and one
// codec (an Encode and a Decode function) per stored entity. Nothing else
// builds a key, parses one, or encodes or decodes a stored value.
//
// Names appear in keys in presentation format with "/" escaped as \047,
// so the separators are unambiguous and keys stay readable in a store
// browser (or etcdctl):
//
//	zones/<zone>                      zone settings and bookkeeping (ZoneRecord, JSON)
//	rrsets/<zone>/<owner>/<TYPE>      one RRset: TTL + wire RDATA (codec.go)
//	journal/<zone>/<seq:016x>         one journal entry (JournalEntry, JSON)
//	steered/<zone>/<owner>/<TYPE>     a steered answer as secondaries get it, encoded as an RRset
//	tokens/<id>                       one API token, secret hashed (auth.Token, JSON)
//	tsig/<name>                       one TSIG key, secret included (model.TSIGKey, JSON)
//	services/<name>                   one steered service (model.Service, JSON)
//	endpoints/<service>/<id>          one endpoint, with its lease and override (model.Endpoint, JSON)
//	drillruns/<drill>/<started:020d>  one drill run's report, by start in Unix nanoseconds (DrillRun, JSON)
//	events/<seq:016x>                 one health event (StoredEvent, JSON)
//	webhooks/<name>                   one alert webhook, secret included (Webhook, JSON)
//	webhook-outbox/<seq:016x>         one alert delivery not yet made (OutboxEntry, JSON)
//	webhook-seq/next                  the next outbox sequence number (16 hex digits)
//
// # Records that cannot be read
//
// A value no codec accepts — not JSON, null, or a record that is not the
// one its key names (another zone's, another service's, {}) — or a key
// under one of the prefixes that does not fit the layout, is corrupt. Every codec's Decode returns an error
// naming the key (a CorruptError, matching ErrCorrupt); what happens next
// depends on who reads:
//
//   - Code that loads a snapshot or a listing for the query path or for
//     steering — the publisher's load and its apply of each revision, the
//     services and endpoints it hands steering (a reset), the health
//     events kept for the checker at start, the lease reaper's and the
//     materialiser's listings, the secondary zones the refresh loops
//     follow — leaves the record out and logs it with Skip: one bad value
//     must not stop everything else from being served. A listing read
//     again and again every few seconds logs a record when it first finds
//     it and then at most hourly.
//   - Code inside a write transaction returns the error, so the write
//     fails, names the key, and nothing is written on top of a record that
//     cannot be read.
//   - Every other reader (the API's reads, zone transfers) returns the
//     error too.
package schema
