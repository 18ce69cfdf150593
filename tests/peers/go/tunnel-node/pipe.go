package main

import (
	"errors"
	"io"
	"net"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

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

// halfClosed reads a stream on after our own Close(). Debian's yamux (git
// 2019-09) returns EOF from Read whenever the buffer is empty once our side
// has closed, although the peer may still be sending; until the peer's FIN
// really came (state streamLocalClose = 4 turns into closed), EOF is retried
// after a short pause.
type halfClosed struct {
	s     *yamux.Stream
	state *int
	lock  *sync.Mutex
}

func newHalfClosed(s *yamux.Stream) *halfClosed {
	v := reflect.ValueOf(s).Elem()
	return &halfClosed{s: s,
		state: (*int)(unsafe.Pointer(v.FieldByName("state").UnsafeAddr())),
		lock:  (*sync.Mutex)(unsafe.Pointer(v.FieldByName("stateLock").UnsafeAddr()))}
}

func (h *halfClosed) Read(p []byte) (int, error) {
	for {
		n, err := h.s.Read(p)
		if n > 0 || err != io.EOF {
			return n, err
		}
		h.lock.Lock()
		localOnly := *h.state == 4
		h.lock.Unlock()
		if !localOnly {
			return 0, io.EOF
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// pipe relays a TCP connection and a yamux stream both ways: EOF on one
// side becomes a half-close (FIN) on the other; an error (a reset) on
// either side resets the TCP connection and closes the stream.
func pipe(conn *net.TCPConn, stream *yamux.Stream) {
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(stream, conn)
		stream.Close() // FIN
		done <- err
	}()
	_, err := io.Copy(conn, newHalfClosed(stream))
	if err != nil {
		conn.SetLinger(0) // the stream was reset: reset the connection
		conn.Close()
	} else {
		conn.CloseWrite()
	}
	if err2 := <-done; err2 != nil {
		conn.SetLinger(0)
	}
	conn.Close()
	stream.Close()
}
