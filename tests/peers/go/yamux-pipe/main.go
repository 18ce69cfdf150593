// yamux-pipe: the reference peer for Switchyard's yamux interop test.
//
// Speaks hashicorp/yamux as server (accepts) or client (opens) over
// stdin/stdout, or over a WebSocket (gorilla/websocket: --ws-listen ADDR
// prints "listening HOST:PORT" and serves one connection on any path;
// --ws-dial URL). On each of --streams streams both ends send --bytes bytes
// of pattern(id, direction) and then half-close, and each verifies byte for
// byte what it receives, then expects EOF (see exchange for the order). --mode echo instead sends back
// what it receives. Exits 0 when every stream checked out, 1 otherwise.
//
// Build offline: GO111MODULE=off GOPATH=/usr/share/gocode go build
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

var (
	role     = flag.String("role", "server", "yamux role: server (accepts streams) or client (opens them)")
	streams  = flag.Int("streams", 100, "number of streams")
	size     = flag.Int("bytes", 1<<20, "bytes each way per stream")
	mode     = flag.String("mode", "exchange", "exchange (send the pattern, verify the peer's) or echo")
	window   = flag.Uint("window", 256*1024, "yamux MaxStreamWindowSize")
	wsListen = flag.String("ws-listen", "", "serve one WebSocket connection on ADDR instead of stdio")
	wsDial   = flag.String("ws-dial", "", "dial a WebSocket URL instead of stdio")
	timeout  = flag.Duration("timeout", 120*time.Second, "give up after this long")
)

// pattern is the byte at offset i of stream id in direction dir (0: sent by
// the yamux client, 1: by the server). The C++ side computes the same.
func pattern(id uint32, dir uint32, i uint32) byte {
	x := i*2654435761 + (id*2+dir)*40503
	return byte(x >> 24)
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { os.Stdout.Close(); return os.Stdin.Close() }

// wsConn is the byte stream of a WebSocket's binary messages: every Write is
// one message, and message boundaries are ignored when reading.
type wsConn struct {
	c *websocket.Conn
	r io.Reader
}

func (w *wsConn) Read(p []byte) (int, error) {
	for {
		if w.r == nil {
			mt, r, err := w.c.NextReader()
			if err != nil {
				return 0, err
			}
			if mt != websocket.BinaryMessage {
				return 0, errors.New("non-binary websocket message")
			}
			w.r = r
		}
		n, err := w.r.Read(p)
		if err == io.EOF {
			w.r = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (w *wsConn) Write(p []byte) (int, error) {
	if err := w.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *wsConn) Close() error { return w.c.Close() }

// exchange writes the pattern while it reads and checks the peer's; it
// half-closes only after reading EOF: in Debian's yamux (git 2019-09) Read
// returns EOF at once on a stream whose own side has closed, so a Go peer
// cannot read on after its FIN. The C++ side half-closes as soon as it has
// written, which is what this exercises.
func exchange(s *yamux.Stream, dir uint32) error {
	id := s.StreamID()
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 32*1024)
		for off := 0; off < *size; {
			n := len(buf)
			if *size-off < n {
				n = *size - off
			}
			for i := 0; i < n; i++ {
				buf[i] = pattern(id, dir, uint32(off+i))
			}
			if _, err := s.Write(buf[:n]); err != nil {
				errc <- fmt.Errorf("stream %d: write: %v", id, err)
				return
			}
			off += n
		}
		errc <- nil
	}()
	buf := make([]byte, 64*1024)
	got := 0
	for {
		n, err := s.Read(buf)
		for i := 0; i < n; i++ {
			if want := pattern(id, 1-dir, uint32(got+i)); buf[i] != want {
				return fmt.Errorf("stream %d: byte %d is %d, want %d", id, got+i, buf[i], want)
			}
		}
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("stream %d: read after %d bytes: %v", id, got, err)
		}
	}
	if got != *size {
		return fmt.Errorf("stream %d: %d bytes before EOF, want %d", id, got, *size)
	}
	if err := <-errc; err != nil {
		return err
	}
	return s.Close()
}

func echo(s *yamux.Stream) error {
	if _, err := io.Copy(s, s); err != nil {
		return fmt.Errorf("stream %d: echo: %v", s.StreamID(), err)
	}
	return s.Close()
}

func run(conn io.ReadWriteCloser) error {
	cfg := yamux.DefaultConfig()
	cfg.MaxStreamWindowSize = uint32(*window)
	cfg.LogOutput = os.Stderr
	var sess *yamux.Session
	var err error
	dir := uint32(1)
	if *role == "client" {
		sess, err = yamux.Client(conn, cfg)
		dir = 0
	} else {
		sess, err = yamux.Server(conn, cfg)
	}
	if err != nil {
		return err
	}
	defer sess.Close()
	var wg sync.WaitGroup
	errs := make(chan error, *streams)
	for i := 0; i < *streams; i++ {
		var s *yamux.Stream
		if *role == "client" {
			s, err = sess.OpenStream()
		} else {
			s, err = sess.AcceptStream()
		}
		if err != nil {
			return fmt.Errorf("stream %d of %d: %v", i+1, *streams, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if *mode == "echo" {
				errs <- echo(s)
			} else {
				errs <- exchange(s, dir)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil {
			return e
		}
	}
	// The peer closes the connection once it has seen everything; closing
	// first could reset a socket with its last window updates unread, and a
	// reset can discard data the peer has not read yet.
	select {
	case <-sess.CloseChan():
	case <-time.After(10 * time.Second):
		return errors.New("peer did not close the connection")
	}
	return nil
}

func serveWebSocket(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", l.Addr())
	result := make(chan error, 1)
	up := websocket.Upgrader{ReadBufferSize: 64 * 1024, WriteBufferSize: 64 * 1024}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			result <- err
			return
		}
		result <- run(&wsConn{c: c})
	}))
	return <-result
}

func main() {
	flag.Parse()
	time.AfterFunc(*timeout, func() {
		fmt.Fprintln(os.Stderr, "yamux-pipe: timed out")
		os.Exit(1)
	})
	var err error
	switch {
	case *wsListen != "":
		err = serveWebSocket(*wsListen)
	case *wsDial != "":
		d := websocket.Dialer{ReadBufferSize: 64 * 1024, WriteBufferSize: 64 * 1024}
		c, _, derr := d.Dial(*wsDial, nil)
		if derr != nil {
			err = derr
		} else {
			err = run(&wsConn{c: c})
		}
	default:
		err = run(stdio{})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "yamux-pipe:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "yamux-pipe: ok")
}
