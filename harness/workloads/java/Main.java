// Small HTTP service used to measure the JVM's syscalls and to run it under seccomp.
//
// Usage: java Main.java CONFIG   (single-file source launcher, JDK 17)
//
// Serves /healthz and /work. /work resolves `localhost` (InetAddress -> getaddrinfo),
// talks to a TCP echo dependency, does a TLS handshake with a local TLS peer (PEM
// certificate and PKCS#8 key from the config) and appends to a file under the writable
// state dir. After start it drives itself, prints SELFCHECK OK, then waits for SIGTERM
// and exits 0 after a graceful shutdown.
import com.sun.net.httpserver.HttpServer;
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.*;
import java.util.concurrent.*;
import javax.net.ssl.*;

public class Main {
    static Properties config(Path p) throws IOException {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(p)) { props.load(r); }
        return props;
    }

    static SSLContext tlsContext(Path certPem, Path keyPem) throws Exception {
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(certPem)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        String pem = Files.readString(keyPem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", key, new char[0], new java.security.cert.Certificate[] {cert});
        ks.setCertificateEntry("ca", cert);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }

    static void serve(ServerSocket server, ExecutorService pool, boolean tls) {
        pool.submit(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    pool.submit(() -> {
                        try (s) {
                            byte[] buf = new byte[1024];
                            int n = s.getInputStream().read(buf);
                            OutputStream out = s.getOutputStream();
                            if (tls) out.write("tls:".getBytes(StandardCharsets.UTF_8));
                            out.write(buf, 0, n);
                            out.flush();
                        } catch (IOException e) { /* peer went away */ }
                        return null;
                    });
                } catch (IOException e) { /* closed */ }
            }
            return null;
        });
    }

    static String get(String host, int port, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http", host, port, path).openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        try (InputStream in = c.getInputStream()) {
            if (c.getResponseCode() != 200) throw new IOException(path + ": " + c.getResponseCode());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public static void main(String[] args) throws Exception {
        Path cfgPath = Paths.get(args[0]);
        Properties cfg = config(cfgPath);
        Path base = cfgPath.getParent();
        String host = cfg.getProperty("listen_host");
        InetAddress bindAddr = InetAddress.getByName(host);
        long pid = ProcessHandle.current().pid();
        Path state = Paths.get(cfg.getProperty("state_dir"), "java-workload-" + pid + ".log");
        SSLContext ctx = tlsContext(base.resolve(cfg.getProperty("tls_cert")), base.resolve(cfg.getProperty("tls_key")));

        ExecutorService pool = Executors.newFixedThreadPool(8);
        ServerSocket echo = new ServerSocket(0, 50, bindAddr);
        SSLServerSocket tlsSrv = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 50, bindAddr);
        serve(echo, pool, false);
        serve(tlsSrv, pool, true);

        HttpServer httpd = HttpServer.create(new InetSocketAddress(bindAddr, Integer.parseInt(cfg.getProperty("port"))), 50);
        httpd.setExecutor(Executors.newFixedThreadPool(4));
        httpd.createContext("/healthz", ex -> {
            byte[] b = "ok".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream o = ex.getResponseBody()) { o.write(b); }
        });
        httpd.createContext("/work", ex -> {
            String body;
            int status = 200;
            try {
                InetAddress dep = null;
                for (InetAddress a : InetAddress.getAllByName("localhost")) if (a instanceof Inet4Address) dep = a;
                String echoed;
                try (Socket s = new Socket(dep, echo.getLocalPort())) {
                    s.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
                    echoed = new String(s.getInputStream().readNBytes(4), StandardCharsets.UTF_8);
                }
                String tlsReply;
                String version;
                try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(host, tlsSrv.getLocalPort())) {
                    SSLParameters p = s.getSSLParameters();
                    p.setServerNames(List.of(new SNIHostName("localhost")));
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    s.setSSLParameters(p);
                    s.startHandshake();
                    s.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
                    tlsReply = new String(s.getInputStream().readNBytes(9), StandardCharsets.UTF_8);
                    version = s.getSession().getProtocol();
                }
                synchronized (Main.class) {
                    Files.writeString(state, "/work " + echoed + " " + tlsReply + "\n",
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                }
                body = "work ok echo=" + echoed + " tls=" + tlsReply + " " + version;
            } catch (Exception e) {
                status = 500;
                body = e.toString();
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, b.length);
            try (OutputStream o = ex.getResponseBody()) { o.write(b); }
        });
        httpd.start();
        int port = httpd.getAddress().getPort();
        System.out.println("READY port=" + port + " pid=" + pid);

        CountDownLatch stop = new CountDownLatch(1);
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> stop.countDown());

        if (!get(host, port, "/healthz").equals("ok")) throw new IllegalStateException("healthz");
        int n = Integer.parseInt(cfg.getProperty("requests"));
        ExecutorService clients = Executors.newFixedThreadPool(4);
        List<Future<String>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) futures.add(clients.submit(() -> get(host, port, "/work")));
        String first = null;
        for (Future<String> f : futures) {
            String r = f.get();
            if (!r.startsWith("work ok echo=ping tls=tls:hello")) throw new IllegalStateException(r);
            if (first == null) first = r;
        }
        clients.shutdown();
        if (Files.readAllLines(state).size() != n) throw new IllegalStateException("state file");
        System.out.println("SELFCHECK OK requests=" + n + " " + first);

        if (!stop.await(Long.parseLong(cfg.getProperty("max_lifetime_s")), TimeUnit.SECONDS)) {
            System.out.println("no SIGTERM before max_lifetime_s");
            System.exit(3);
        }
        httpd.stop(0);
        echo.close();
        tlsSrv.close();
        pool.shutdown();
        pool.awaitTermination(5, TimeUnit.SECONDS);
        ((ExecutorService) httpd.getExecutor()).shutdown();
        Files.delete(state);
        System.out.println("SHUTDOWN OK");
        System.exit(0);
    }
}
