// tunnel-node: the node side of Switchyard's tunnel protocol v1 (SPEC §5.2),
// minimal, on Debian's gorilla/websocket and hashicorp/yamux (the stack of
// seed 001 and frp's tcp_mux): the reference node for interop tests and the
// tunnel benchmark.
//
//	tunnel-node --listen-tunnel ADDR --listen-http ADDR [--domain D] [--token T]
//
// --listen-tunnel accepts `GET /v1/tunnel` upgrades (Switchyard-Tunnel-Id
// required; Authorization: Bearer T when --token is set, else 401), answers
// 101 with Switchyard-Tunnel-Host: <label or md5(id)[:16]>.<domain>, and runs
// a yamux *client* over the WebSocket's binary messages. --listen-http takes
// plain TCP connections and pipes each through a new stream of the latest
// live agent session (bytes, half-close both ways; a reset stream resets the
// connection). SIGUSR1 sends yamux GoAway to every session (a drain);
// SIGUSR2 closes every session's WebSocket with code 4409 (ownership lost).
// With --tls-cert and --tls-key the tunnel listener speaks TLS (wss://).
// Prints `listening tunnel=HOST:PORT http=HOST:PORT` when ready.
//
// Build offline: GO111MODULE=off GOPATH=/usr/share/gocode go build
package main

import (
	"crypto/md5"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

var (
	listenTunnel = flag.String("listen-tunnel", "127.0.0.1:0", "agents' WebSocket listener")
	listenHTTP   = flag.String("listen-http", "127.0.0.1:0", "plain TCP entry piped into the tunnel")
	domain       = flag.String("domain", "tunnel.test", "agent host names are <label>.<domain>")
	token        = flag.String("token", "", "required bearer token (empty: no auth)")
	window       = flag.Uint("window", 256*1024, "yamux MaxStreamWindowSize")
	tlsCert      = flag.String("tls-cert", "", "PEM certificate: serve the tunnel listener over TLS")
	tlsKey       = flag.String("tls-key", "", "PEM key for --tls-cert")
	validID      = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	validLabel   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

	mu       sync.Mutex
	sessions []*yamux.Session // live, not drained; the last one is used
	conns    = map[*yamux.Session]*websocket.Conn{}
)

func hostFor(id, label string) string {
	if label != "" {
		return label + "." + *domain
	}
	sum := md5.Sum([]byte(id))
	return hex.EncodeToString(sum[:])[:16] + "." + *domain
}

func serveTunnel(w http.ResponseWriter, r *http.Request) {
	id, label := r.Header.Get("Switchyard-Tunnel-Id"), r.Header.Get("Switchyard-Tunnel-Host")
	switch {
	case r.URL.Path != "/v1/tunnel":
		http.Error(w, "not found", http.StatusNotFound)
		return
	case !validID.MatchString(id) || (label != "" && !validLabel.MatchString(label)):
		http.Error(w, "bad tunnel id or label", http.StatusBadRequest)
		return
	case *token != "" && r.Header.Get("Authorization") != "Bearer "+*token:
		http.Error(w, "bad or expired token", http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{ReadBufferSize: 64 * 1024, WriteBufferSize: 64 * 1024}
	c, err := up.Upgrade(w, r, http.Header{"Switchyard-Tunnel-Host": {hostFor(id, label)}})
	if err != nil {
		return
	}
	cfg := yamux.DefaultConfig()
	cfg.MaxStreamWindowSize = uint32(*window)
	sess, err := yamux.Client(&wsConn{c: c}, cfg)
	if err != nil {
		c.Close()
		return
	}
	log.Printf("session up: id=%s from %s", id, r.RemoteAddr)
	mu.Lock()
	sessions = append(sessions, sess)
	conns[sess] = c
	mu.Unlock()
	<-sess.CloseChan()
	drop(sess)
	log.Printf("session down: id=%s", id)
}

func drop(sess *yamux.Session) {
	mu.Lock()
	defer mu.Unlock()
	delete(conns, sess)
	for i, s := range sessions {
		if s == sess {
			sessions = append(sessions[:i], sessions[i+1:]...)
			return
		}
	}
}

func latest() *yamux.Session {
	mu.Lock()
	defer mu.Unlock()
	if len(sessions) == 0 {
		return nil
	}
	return sessions[len(sessions)-1]
}

func serveConn(conn *net.TCPConn) {
	sess := latest()
	if sess == nil {
		conn.Close()
		return
	}
	stream, err := sess.OpenStream()
	if err != nil {
		conn.SetLinger(0)
		conn.Close()
		return
	}
	pipe(conn, stream)
}

func main() {
	flag.Parse()
	log.SetOutput(os.Stderr)
	tl, err := net.Listen("tcp", *listenTunnel)
	if err != nil {
		log.Fatal(err)
	}
	hl, err := net.Listen("tcp", *listenHTTP)
	if err != nil {
		log.Fatal(err)
	}
	if *tlsCert != "" {
		go http.ServeTLS(tl, http.HandlerFunc(serveTunnel), *tlsCert, *tlsKey)
	} else {
		go http.Serve(tl, http.HandlerFunc(serveTunnel))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sig {
			mu.Lock()
			for _, sess := range sessions {
				if s == syscall.SIGUSR1 {
					sess.GoAway()
				} else {
					msg := websocket.FormatCloseMessage(4409, "host owned by another tunnel id")
					conns[sess].WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				}
			}
			sessions = nil
			mu.Unlock()
			log.Printf("signal %v: GoAway or close 4409 sent", s)
		}
	}()
	fmt.Printf("listening tunnel=%s http=%s\n", tl.Addr(), hl.Addr())
	for {
		c, err := hl.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serveConn(c.(*net.TCPConn))
	}
}
