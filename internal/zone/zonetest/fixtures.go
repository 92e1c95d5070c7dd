package zonetest

// ExampleCom is the zone example.com.: every lookup case the tests
// exercise (CNAME chains, wildcards, empty non-terminals, delegations).
const ExampleCom = `
$TTL 3600
@                 SOA   ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
@                 NS    ns1.example.com.
@                 NS    ns2.example.net.
ns1               A     192.0.2.53
www          300  A     192.0.2.1
www          300  A     192.0.2.2
www          300  AAAA  2001:db8::1
alias        300  CNAME www.example.com.
chain        300  CNAME alias.example.com.
dangling     300  CNAME nothere.example.com.
external     300  CNAME foo.example.net.
loop1        300  CNAME loop2.example.com.
loop2        300  CNAME loop1.example.com.
a.b.c        300  TXT   "deep"
*.wild       300  A     192.0.2.100
*.wild       300  MX    10 mail.example.com.
exists.wild  300  TXT   "exists"
*.cnamewild  300  CNAME www.example.com.
sub               NS    ns1.sub.example.com.
sub               NS    ns.example.net.
sub               DS    12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D8C6D0B3A9A0B0C0B0D0E0F0
ns1.sub           A     192.0.2.54
ns1.sub           AAAA  2001:db8::54
nods              NS    ns.example.net.
tocut        300  CNAME host.sub.example.com.
child             NS    ns1.child.example.com.
child             DS    54321 13 2 1111111111111111111111111111111111111111111111111111111111111111
ns1.child         A     192.0.2.55
other        300  CNAME www.other.test.
mx           300  MX    10 mail.example.com.
mx           300  MX    20 www.example.com.
mail         300  A     192.0.2.25
`

// ChildExampleCom is child.example.com., delegated from ExampleCom.
const ChildExampleCom = `
@    SOA  ns1.child.example.com. hostmaster.example.com. 7 7200 3600 1209600 60
@    NS   ns1.child.example.com.
ns1  A    192.0.2.55
www  A    192.0.2.77
`

// OtherTest is other.test., the target of a cross-zone CNAME in ExampleCom.
const OtherTest = `
@    SOA  ns1.example.com. hostmaster.example.com. 9 7200 3600 1209600 120
@    NS   ns1.example.com.
www  A    198.51.100.1
`
