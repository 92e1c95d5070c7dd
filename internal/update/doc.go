// Package update answers RFC 2136 dynamic updates. Parse checks a message
// as section 3 asks (zone section, prerequisite and update sections, with
// FORMERR or NOTZONE for what is malformed) and turns it into the control
// plane's prerequisites and operations; Apply runs them through the one
// durable write path (control.DynamicUpdate) as the TSIG key that signed
// them, behind the zone's update ACL, and maps the outcome to the rcode the
// requester gets.
package update
