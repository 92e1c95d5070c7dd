package main

import (
	"fmt"
	"os"
	"strings"
)

// pdnsPeer: the PowerDNS Authoritative Server with the bind backend (zone
// files), one receiver and one distributor thread, no guardian, no query
// logging, and its packet cache as it comes. Steering with LUA records
// (luaMode is enable-lua-records: yes, or shared for one Lua state shared
// by every record): ifurlup over two address groups for the failover name
// (the first group with an address up is answered), and for the weighted
// name the addresses ifurlup finds up, picked from by pickwrandom with
// their weights, so that both follow the checks. Checks run every second
// (lua-health-checks-interval).
func pdnsPeer(name, luaMode string) *peer {
	return &peer{
		name: name, binary: "pdns_server", pkg: "pdns-server", needsPkgs: []string{"pdns-backend-bind"}, steering: true,
		onlySteer:   luaMode == "shared",
		versionArgs: []string{"--version"}, versionRe: `PowerDNS Authoritative Server (\S+)`,
		steeredRecords: func(i *instance) string {
			url := fmt.Sprintf("http://%s:%d%s", strings.TrimSuffix(failoverName, "."), i.steer.healthPort, healthPath)
			var groups []string
			for _, e := range failoverEndpoints {
				groups = append(groups, fmt.Sprintf("{'%s'}", e.addr))
			}
			fo := fmt.Sprintf("ifurlup('%s', {%s})", url, strings.Join(groups, ", "))
			url = fmt.Sprintf("http://%s:%d%s", strings.TrimSuffix(weightedName, "."), i.steer.healthPort, healthPath)
			var addrs, weights []string
			for _, e := range weightedEndpoints {
				addrs = append(addrs, fmt.Sprintf("'%s'", e.addr))
				weights = append(weights, fmt.Sprintf("['%s']=%d", e.addr, e.weight))
			}
			wt := fmt.Sprintf(";local up = ifurlup('%s', {{%s}}, {selector='all'}) "+
				"local w = {%s} local c = {} "+
				"for _, a in ipairs(up) do c[#c+1] = {w[a], a} end "+
				"return pickwrandom(c)",
				url, strings.Join(addrs, ", "), strings.Join(weights, ", "))
			return fmt.Sprintf("%s 20 IN LUA A \"%s\"\n%s 20 IN LUA A \"%s\"\n",
				relative(failoverName), fo, relative(weightedName), wt)
		},
		configure: func(i *instance) ([]string, error) {
			named := fmt.Sprintf("zone %q { type master; file %q; };\n", zoneName, i.zoneFile)
			if err := os.WriteFile(i.path("named.conf"), []byte(named), 0o644); err != nil {
				return nil, err
			}
			lua := "no"
			if i.steer != nil {
				lua = luaMode
			}
			conf := fmt.Sprintf(`launch=bind
bind-config=%s
local-address=127.0.0.1
local-port=%d
socket-dir=%s
guardian=no
daemon=no
disable-syslog=yes
loglevel=4
log-dns-queries=no
query-logging=no
receiver-threads=1
distributor-threads=1
webserver=no
api=no
enable-lua-records=%s
lua-health-checks-interval=1
`, i.path("named.conf"), i.port, i.dir, lua)
			if err := os.WriteFile(i.path("pdns.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"--config-dir=" + i.dir}, nil
		},
	}
}
