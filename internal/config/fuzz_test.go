package config

import "testing"

// FuzzParse: the config parser must never panic, and whatever it accepts
// must pass Validate.
func FuzzParse(f *testing.F) {
	f.Add([]byte("data_dir: x\ndns:\n  listen: [\"127.0.0.1:53\"]\n  tcp_idle_timeout: 5s\n"))
	f.Add([]byte("log: {level: debug, format: json}\n"))
	f.Add([]byte("zones:\n  default_nameservers: [a.example.]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted a config that does not validate: %v", err)
		}
	})
}
