// Small HTTP service used to measure a static Go binary's syscalls and to run it under
// seccomp. Build: CGO_ENABLED=0 go build -trimpath -o workload .
//
// Usage: workload CONFIG
//
// Serves /healthz and /work. /work resolves `localhost` (Go's own resolver: /etc/hosts
// via nsswitch, as CGO_ENABLED=0 has no getaddrinfo), talks to a TCP echo dependency,
// does a TLS handshake with a local TLS peer and appends to a file under the writable
// state dir. After start it drives itself, prints SELFCHECK OK, then waits for SIGTERM
// and exits 0 after a graceful shutdown.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func readConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		cfg[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return cfg, sc.Err()
}

func serveEcho(ln net.Listener, prefix []byte) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 1024)
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write(append(append([]byte{}, prefix...), buf[:n]...))
		}(c)
	}
}

func run() error {
	cfgPath := os.Args[1]
	cfg, err := readConfig(cfgPath)
	if err != nil {
		return err
	}
	base := filepath.Dir(cfgPath)
	host := cfg["listen_host"]
	state := filepath.Join(cfg["state_dir"], fmt.Sprintf("go-workload-%d.log", os.Getpid()))
	certFile, keyFile := filepath.Join(base, cfg["tls_cert"]), filepath.Join(base, cfg["tls_key"])
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	clientTLS := &tls.Config{RootCAs: roots, ServerName: "localhost"}

	echo, err := net.Listen("tcp4", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	tlsLn, err := tls.Listen("tcp4", net.JoinHostPort(host, "0"), &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		return err
	}
	go serveEcho(echo, nil)
	go serveEcho(tlsLn, []byte("tls:"))
	echoPort := echo.Addr().(*net.TCPAddr).Port
	tlsAddr := tlsLn.Addr().String()

	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		reply, err := work(r.Context(), echoPort, tlsAddr, clientTLS, state, &mu)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, reply)
	})
	ln, err := net.Listen("tcp4", net.JoinHostPort(host, cfg["port"]))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Printf("READY port=%d pid=%d\n", port, os.Getpid())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)

	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (string, error) {
		resp, err := client.Get(fmt.Sprintf("http://%s/%s", net.JoinHostPort(host, strconv.Itoa(port)), path))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("%s: HTTP %d %s", path, resp.StatusCode, b)
		}
		return string(b), err
	}
	if body, err := get("healthz"); err != nil || body != "ok" {
		return fmt.Errorf("healthz: %q %v", body, err)
	}
	n, _ := strconv.Atoi(cfg["requests"])
	results := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); results[i], errs[i] = get("work") }(i)
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !strings.HasPrefix(results[i], "work ok echo=ping tls=tls:hello") {
			return fmt.Errorf("work: %q %v", results[i], errs[i])
		}
	}
	data, err := os.ReadFile(state)
	if err != nil || strings.Count(string(data), "\n") != n {
		return fmt.Errorf("state file: %v", err)
	}
	// Close the self-check client's keep-alive connections: Shutdown counts a
	// connection that was dialled but never carried a request as active for 5s.
	client.CloseIdleConnections()
	fmt.Printf("SELFCHECK OK requests=%d %s\n", n, results[0])

	lifetime, _ := strconv.Atoi(cfg["max_lifetime_s"])
	select {
	case <-sigs:
	case <-time.After(time.Duration(lifetime) * time.Second):
		fmt.Println("no SIGTERM before max_lifetime_s")
		os.Exit(3)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	echo.Close()
	tlsLn.Close()
	if err := <-served; err != http.ErrServerClosed {
		return err
	}
	if err := os.Remove(state); err != nil {
		return err
	}
	fmt.Println("SHUTDOWN OK")
	return nil
}

func work(ctx context.Context, echoPort int, tlsAddr string, clientTLS *tls.Config, state string, mu *sync.Mutex) (string, error) {
	addrs, err := net.DefaultResolver.LookupHost(ctx, "localhost")
	if err != nil {
		return "", err
	}
	var v4 string
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			v4 = a
		}
	}
	dep, err := net.DialTimeout("tcp4", net.JoinHostPort(v4, strconv.Itoa(echoPort)), 5*time.Second)
	if err != nil {
		return "", err
	}
	defer dep.Close()
	dep.Write([]byte("ping"))
	echoed := make([]byte, 4)
	if _, err := io.ReadFull(dep, echoed); err != nil {
		return "", err
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp4", tlsAddr, clientTLS)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.Write([]byte("hello"))
	reply := make([]byte, 9)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return "", err
	}
	version := map[uint16]string{tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}[conn.ConnectionState().Version]
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(state, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fmt.Fprintf(f, "/work %s %s\n", echoed, reply)
	return fmt.Sprintf("work ok echo=%s tls=%s %s", echoed, reply, version), nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
