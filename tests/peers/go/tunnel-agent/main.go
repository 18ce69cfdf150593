// tunnel-agent: the agent side of Switchyard's tunnel protocol v1 (SPEC
// §5.2) in plain Go on Debian's gorilla/websocket and hashicorp/yamux — the
// reference agent that the C++ switchyard-tunnel is compared with.
//
//	tunnel-agent --server ws://HOST:PORT --id ID --to HOST:PORT [--token T] [--label L]
//
// Dials the WebSocket upgrade, prints `tunnel-ready host=<name> server=<url>`,
// is the yamux *server*, and pipes every stream the node opens to a new TCP
// connection to --to (half-close both ways; see halfClosed for Debian's
// yamux quirk). One session, no reconnect: it exits 1 when the session ends.
//
// Build offline: GO111MODULE=off GOPATH=/usr/share/gocode go build
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

var (
	server = flag.String("server", "", "ws://HOST:PORT of the node's tunnel listener")
	id     = flag.String("id", "", "tunnel id")
	to     = flag.String("to", "", "HOST:PORT of the local target")
	token  = flag.String("token", "", "bearer token")
	label  = flag.String("label", "", "host label to ask for")
	window = flag.Uint("window", 256*1024, "yamux MaxStreamWindowSize")
)

func serveStream(stream *yamux.Stream) {
	c, err := net.Dial("tcp", *to)
	if err != nil {
		stream.Close() // this yamux has no reset; the node sees EOF
		return
	}
	pipe(c.(*net.TCPConn), stream)
}

func main() {
	flag.Parse()
	if *server == "" || *id == "" || *to == "" {
		fmt.Fprintln(os.Stderr, "usage: tunnel-agent --server ws://HOST:PORT --id ID --to HOST:PORT [--token T] [--label L]")
		os.Exit(2)
	}
	h := http.Header{"Switchyard-Tunnel-Id": {*id}}
	if *token != "" {
		h.Set("Authorization", "Bearer "+*token)
	}
	if *label != "" {
		h.Set("Switchyard-Tunnel-Host", *label)
	}
	d := websocket.Dialer{ReadBufferSize: 64 * 1024, WriteBufferSize: 64 * 1024}
	c, resp, err := d.Dial(*server+"/v1/tunnel", h)
	if err != nil {
		if resp != nil && (resp.StatusCode == 401 || resp.StatusCode == 409) {
			fmt.Fprintf(os.Stderr, "tunnel-agent: refused: %s\n", resp.Status)
			os.Exit(3)
		}
		log.Fatalf("tunnel-agent: %v", err)
	}
	fmt.Printf("tunnel-ready host=%s server=%s\n", resp.Header.Get("Switchyard-Tunnel-Host"), *server)
	cfg := yamux.DefaultConfig()
	cfg.MaxStreamWindowSize = uint32(*window)
	sess, err := yamux.Server(&wsConn{c: c}, cfg)
	if err != nil {
		log.Fatal(err)
	}
	for {
		stream, err := sess.AcceptStream()
		if err != nil {
			log.Fatalf("tunnel-agent: session ended: %v", err)
		}
		go serveStream(stream)
	}
}
