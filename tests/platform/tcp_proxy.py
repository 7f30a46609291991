"""A TCP proxy a test controls, in front of a real server: `cut()` drops every connection and refuses new ones
(the server seems gone), `restore()` accepts again on the same port."""
import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to (host, target_port), one thread per direction of each connection."""

    def __init__(self, host: str, target_port: int):
        self.target = (host, target_port)
        self.listener: socket.socket | None = None
        self.port = 0
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()

    def start(self) -> "TcpProxy":
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: a bare close() would not
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for sock in pair:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # RST on close
                    sock.close()
                except OSError:
                    pass

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()
