package dev.agentturbo.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy between the code under test and a server (PostgreSQL), to break the network between them
 * without touching either: {@link #cut()} resets every connection and every new one, {@link #blackhole()} keeps the
 * connections open but loses every byte, as a half-open connection does, which only a timeout of the client notices.
 */
public final class TcpProxy implements AutoCloseable {

    private enum Mode { FORWARD, CUT, BLACKHOLE }

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads;
    private volatile Mode mode = Mode.FORWARD;
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress target, ServerSocket server) {
        this.target = target;
        this.server = server;
        AtomicInteger count = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "tcp-proxy-" + server.getLocalPort() + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Listens on a free port of 127.0.0.1 and forwards every connection to the target. */
    public static TcpProxy start(String targetHost, int targetPort) {
        try {
            ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            TcpProxy proxy = new TcpProxy(new InetSocketAddress(targetHost, targetPort), server);
            proxy.threads.execute(proxy::acceptLoop);
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException("could not listen on a loopback port", e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /**
     * From now on a network partition that the client notices at once: every open connection is reset (RST to both
     * sides) and every new one is accepted and reset straight away, so a JDBC client fails fast instead of hanging.
     */
    public void cut() {
        List<Link> open;
        synchronized (this) {
            mode = Mode.CUT;
            open = List.copyOf(links);
        }
        open.forEach(Link::reset);
    }

    /**
     * From now on every byte, in both directions and on every connection, open or new, is silently dropped, and so
     * is a close (FIN): the sockets stay open on both sides. Only a socket timeout or TCP keepalive notices.
     */
    public void blackhole() {
        mode = Mode.BLACKHOLE;
    }

    /**
     * New connections are forwarded again. Connections that lost bytes to {@link #blackhole()} are reset now,
     * since their streams can no longer be understood by either side.
     */
    public void restore() {
        List<Link> lossy;
        synchronized (this) {
            mode = Mode.FORWARD;
            lossy = links.stream().filter(l -> l.lossy).toList();
        }
        lossy.forEach(Link::reset);
    }

    /** Connections accepted and not yet closed. */
    public int openConnections() {
        return links.size();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        List.copyOf(links).forEach(Link::reset);
        threads.shutdownNow();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                pause(); // out of file descriptors, say: do not spin
                continue;
            }
            Link link = new Link(client);
            synchronized (this) {
                if (closed || mode == Mode.CUT) {
                    abort(client);
                    continue;
                }
                links.add(link);
                if (mode == Mode.BLACKHOLE) {
                    link.lossy = true;
                }
            }
            threads.execute(link::open);
        }
    }

    /** One proxied connection: the client's socket, the target's, a pump thread for each direction. */
    private final class Link {
        final Socket client;
        Socket upstream;
        volatile boolean lossy;
        boolean reset;
        int pumpsDone;

        Link(Socket client) {
            this.client = client;
        }

        void open() {
            if (lossy) {
                // accepted during a blackhole: nothing to talk to, swallow what the client sends
                pump(client, null);
                return;
            }
            Socket socket = new Socket();
            try {
                socket.setTcpNoDelay(true);
                socket.connect(target, 10_000);
            } catch (IOException e) {
                abort(socket);
                reset();
                return;
            }
            synchronized (this) {
                if (reset) {
                    abort(socket);
                    return;
                }
                upstream = socket;
            }
            threads.execute(() -> pump(socket, client));
            pump(client, socket);
        }

        /** Copies from one socket to the other; in a blackhole, reads and forgets. Ends the link on an error. */
        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to == null ? null : to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (out == null || lossy || mode == Mode.BLACKHOLE) {
                        lossy = true;
                        if (mode != Mode.BLACKHOLE) {
                            // restored while these bytes were being lost: the stream is broken for good
                            reset();
                            return;
                        }
                        continue;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
                if (out != null && mode == Mode.BLACKHOLE) {
                    // the FIN is lost too: the other side keeps its half-open connection (and a server session
                    // its locks) until restore() or cut() resets it
                    lossy = true;
                    return;
                }
                if (out == null || lossy) {
                    reset();
                    return;
                }
                // end of stream: pass the half-close on, as TCP would
                to.shutdownOutput();
                pumpDone();
            } catch (IOException e) {
                reset();
            }
        }

        private void pumpDone() {
            boolean both;
            synchronized (this) {
                pumpsDone++;
                both = pumpsDone >= 2;
            }
            if (both) {
                finish();
            }
        }

        /** Both directions ended cleanly: an orderly close. */
        private void finish() {
            synchronized (this) {
                reset = true;
            }
            links.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
        }

        /** Ends both sides abruptly (RST). */
        void reset() {
            Socket up;
            synchronized (this) {
                reset = true;
                up = upstream;
            }
            links.remove(this);
            abort(client);
            abort(up);
        }
    }

    private static void abort(Socket socket) {
        if (socket == null) {
            return;
        }
        try {
            if (!socket.isClosed()) {
                socket.setSoLinger(true, 0);
            }
        } catch (IOException e) {
            // closing anyway
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        if (socket == null) {
            return;
        }
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "TcpProxy 127.0.0.1:" + port() + " -> " + target;
    }
}
