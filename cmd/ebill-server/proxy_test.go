package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// badNetwork is a TCP proxy that, at random, refuses connections, resets
// them, delays them, or cuts them after a few bytes in either direction.
type badNetwork struct {
	ln      net.Listener
	target  string
	faults  atomic.Int64
	healthy atomic.Bool // pass everything through
	wg      sync.WaitGroup
}

func startBadNetwork(t *testing.T, target string) *badNetwork {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &badNetwork{ln: ln, target: target}
	p.healthy.Store(true)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *badNetwork) addr() string { return p.ln.Addr().String() }

func (p *badNetwork) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *badNetwork) handle(c net.Conn) {
	defer c.Close()
	if !p.healthy.Load() {
		switch rand.IntN(4) {
		case 0: // refused
			p.faults.Add(1)
			return
		case 1: // reset
			p.faults.Add(1)
			c.(*net.TCPConn).SetLinger(0)
			return
		case 2: // slow
			time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		}
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	cut := int64(-1)
	if !p.healthy.Load() && rand.IntN(2) == 0 { // cut mid-stream
		p.faults.Add(1)
		cut = int64(rand.IntN(4000))
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		if cut >= 0 {
			io.CopyN(dst, src, cut)
		} else {
			io.Copy(dst, src)
		}
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(s, c)
	go pipe(c, s)
	<-done
	<-done
}

// ackLoser is an HTTP proxy that passes uploads to the server, lets it
// commit, and then drops the answer of the first `lose` uploads: the
// acknowledgement is lost on the way back.
type ackLoser struct {
	ln     net.Listener
	target string
	lose   atomic.Int64
	lost   atomic.Int64
}

func startAckLoser(t *testing.T, target string, lose int64) *ackLoser {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ackLoser{ln: ln, target: target}
	p.lose.Store(lose)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *ackLoser) addr() string { return p.ln.Addr().String() }

func (p *ackLoser) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		req.URL.Scheme, req.URL.Host, req.RequestURI = "http", p.target, ""
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(resp.Body) // the server has answered: the batch is committed
		resp.Body.Close()
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/bills") && p.lose.Add(-1) >= 0 {
			p.lost.Add(1)
			return // the acknowledgement never reaches the station
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		resp.ContentLength = int64(len(body))
		resp.TransferEncoding = nil
		if err := resp.Write(c); err != nil {
			return
		}
	}
}

// TestBadNetwork: through a connection that drops, resets, delays and cuts,
// every bill reaches the server exactly once.
func TestBadNetwork(t *testing.T) {
	var proxy *badNetwork
	s := newSiteVia(t, 10000, false, func(serverAddr string) string {
		proxy = startBadNetwork(t, serverAddr)
		return proxy.addr()
	})
	const rounds, each = 6, 250
	total := rounds * each
	proxy.healthy.Store(false)
	for r := 0; r < rounds; r++ {
		if n, err := s.issue(each, fmt.Sprintf("NET%d", r)); err != nil || n != each {
			t.Fatalf("issued %d: %v", n, err)
		}
		for i := 0; i < 10 && s.pendingOrZero() > 0; i++ {
			s.ebillErr("sync", "once") // failures are expected; the next pass goes on
		}
	}
	proxy.healthy.Store(true)
	s.ebill("sync", "once")
	n, mx, ok := s.ledger()
	if n != total || mx != int64(total) || !ok || s.pending() != 0 {
		t.Fatalf("server holds %d bills (last seq %d, contiguous %v), station pending %d", n, mx, ok, s.pending())
	}
	if proxy.faults.Load() == 0 {
		t.Fatal("the proxy injected no fault: the test proved nothing")
	}
	t.Logf("%d bills exactly once through %d injected network faults", total, proxy.faults.Load())
}

func (s *site) pendingOrZero() int {
	out, err := s.ebillErr("status")
	if err != nil {
		return 1
	}
	var st struct{ Pending int }
	if jsonErr := jsonUnmarshal(out, &st); jsonErr != nil {
		return 1
	}
	return st.Pending
}

// TestLostAcknowledgement: the server commits a batch but its answer is
// lost; the station's retry is a no-op that gets the same acknowledgement.
func TestLostAcknowledgement(t *testing.T) {
	var proxy *ackLoser
	s := newSiteVia(t, 10000, true, func(serverAddr string) string {
		proxy = startAckLoser(t, serverAddr, 2)
		return proxy.addr()
	})
	const total = 1200 // three batches
	if n, err := s.issue(total, "ACK"); err != nil || n != total {
		t.Fatalf("issued %d: %v", n, err)
	}
	if out, err := s.ebillErr("sync", "once"); err == nil || !strings.Contains(out, "无法连接服务器") {
		t.Fatalf("first pass should lose its acknowledgement: %v %s", err, out)
	}
	if n, _, _ := s.ledger(); n != 500 || s.pending() != total {
		t.Fatalf("after the lost answer the server holds %d (want 500, committed) and the station still has %d pending (want %d)", n, s.pending(), total)
	}
	s.ebillErr("sync", "once") // loses the second answer: the same batch again, a replay
	out := s.ebill("sync", "once")
	var rep struct{ Uploaded int }
	jsonUnmarshal(out, &rep)
	n, mx, ok := s.ledger()
	if n != total || mx != total || !ok || s.pending() != 0 || proxy.lost.Load() != 2 {
		t.Fatalf("server holds %d (last %d, contiguous %v), pending %d, answers lost %d", n, mx, ok, s.pending(), proxy.lost.Load())
	}
}
