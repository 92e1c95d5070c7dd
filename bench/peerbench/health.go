package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// healthServers serve GET /healthz (200) at every endpoint's address, on
// one port shared by all of them.
type healthServers struct {
	port int
	mu   sync.Mutex
	srv  map[string]*http.Server // by address; nil while stopped
}

// startHealth finds a port free on every endpoint address and serves
// /healthz there.
func startHealth() (*healthServers, error) {
	for range 20 {
		l, err := net.Listen("tcp", allEndpoints()[0].addr+":0")
		if err != nil {
			return nil, fmt.Errorf("health endpoints: %w", err)
		}
		h := &healthServers{port: l.Addr().(*net.TCPAddr).Port, srv: map[string]*http.Server{}}
		h.serve(allEndpoints()[0].addr, l)
		ok := true
		for _, e := range allEndpoints()[1:] {
			if err := h.start(e.addr); err != nil {
				ok = false
				break
			}
		}
		if ok {
			return h, nil
		}
		h.close()
	}
	return nil, errors.New("health endpoints: found no port free on every endpoint address")
}

func (h *healthServers) serve(addr string, l net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("OK\n"))
	})
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	h.mu.Lock()
	h.srv[addr] = s
	h.mu.Unlock()
	go s.Serve(l)
}

// start serves addr (again).
func (h *healthServers) start(addr string) error {
	l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", addr, h.port))
	if err != nil {
		return err
	}
	h.serve(addr, l)
	return nil
}

// stop closes addr's server and its connections: its checks fail.
func (h *healthServers) stop(addr string) {
	h.mu.Lock()
	s := h.srv[addr]
	delete(h.srv, addr)
	h.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

func (h *healthServers) close() {
	h.mu.Lock()
	addrs := make([]string, 0, len(h.srv))
	for a := range h.srv {
		addrs = append(addrs, a)
	}
	h.mu.Unlock()
	for _, a := range addrs {
		h.stop(a)
	}
}
