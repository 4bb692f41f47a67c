/* A TCP connection, optionally with TLS (OpenSSL), with non-blocking reads and writes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct forge_transport {
    int fd;
    SSL *ssl;
};

uint64_t forge_now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

static void openssl_reason(char *out, size_t size) {
    unsigned long code = ERR_get_error();
    if (code == 0) {
        snprintf(out, size, "%s", errno ? strerror(errno) : "no detail");
    } else {
        ERR_error_string_n(code, out, size);
    }
    ERR_clear_error();
}

/* ---- a socket BIO that never raises SIGPIPE (send with MSG_NOSIGNAL) ---- */

static int nosignal_write(BIO *bio, const char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t sent = send(fd, data, (size_t)length, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return (int)sent;
}

static int nosignal_read(BIO *bio, char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t received = recv(fd, data, (size_t)length, MSG_DONTWAIT);
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return (int)received;
}

static long nosignal_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

static int nosignal_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static BIO *nosignal_bio(BIO_METHOD **method, int fd) {
    *method = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "forge-socket");
    if (*method == NULL) return NULL;
    BIO_meth_set_write(*method, nosignal_write);
    BIO_meth_set_read(*method, nosignal_read);
    BIO_meth_set_ctrl(*method, nosignal_ctrl);
    BIO_meth_set_create(*method, nosignal_create);
    BIO *bio = BIO_new(*method);
    if (bio != NULL) BIO_set_data(bio, (void *)(intptr_t)fd);
    return bio;
}

/* ---- TLS context ---- */

void *forge_tls_context_new(const forge_options *options, forge_status *status) {
    if (!options->tls) return NULL;
    ERR_clear_error();
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    char reason[256];
    if (context == NULL) {
        openssl_reason(reason, sizeof reason);
        forge_fail(status, FORGE_INTERNAL, "TLS: cannot create a context: %s", reason);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    /* A write that would block is retried later, possibly after reads, from where it stopped. */
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    if (options->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(context, options->ca_file, NULL) != 1) {
            openssl_reason(reason, sizeof reason);
            forge_fail(status, FORGE_INVALID_ARGUMENT, "TLS: cannot read the CA file %s: %s", options->ca_file, reason);
            SSL_CTX_free(context);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
        openssl_reason(reason, sizeof reason);
        forge_fail(status, FORGE_INVALID_ARGUMENT, "TLS: cannot load the system's CA store: %s", reason);
        SSL_CTX_free(context);
        return NULL;
    }
    if ((options->cert_file == NULL) != (options->key_file == NULL)) {
        forge_fail(status, FORGE_INVALID_ARGUMENT, "TLS: cert_file and key_file must be given together");
        SSL_CTX_free(context);
        return NULL;
    }
    if (options->cert_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(context, options->cert_file) != 1) {
            openssl_reason(reason, sizeof reason);
            forge_fail(status, FORGE_INVALID_ARGUMENT, "TLS: cannot read the client certificate %s: %s", options->cert_file, reason);
            SSL_CTX_free(context);
            return NULL;
        }
        if (SSL_CTX_use_PrivateKey_file(context, options->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(context) != 1) {
            openssl_reason(reason, sizeof reason);
            forge_fail(status, FORGE_INVALID_ARGUMENT, "TLS: cannot use the client key %s: %s", options->key_file, reason);
            SSL_CTX_free(context);
            return NULL;
        }
    }
    return context;
}

void forge_tls_context_free(void *context) {
    SSL_CTX_free((SSL_CTX *)context);
}

/* ---- connecting ---- */

static int wait_fd(int fd, short events, uint64_t deadline) {
    for (;;) {
        uint64_t now = forge_now_ms();
        if (now >= deadline) return 0;
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int ready = poll(&p, 1, (int)(deadline - now));
        if (ready > 0) return 1;
        if (ready == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

static int connect_tcp(const forge_options *options, uint64_t deadline, forge_status *status) {
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)options->port);
    struct addrinfo hints = { 0 }, *addresses = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int resolved = getaddrinfo(options->host, port, &hints, &addresses);
    if (resolved != 0) {
        forge_fail(status, FORGE_UNAVAILABLE, "cannot resolve %s: %s", options->host, gai_strerror(resolved));
        return -1;
    }
    int last_error = 0;
    for (struct addrinfo *address = addresses; address != NULL; address = address->ai_next) {
        int fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, address->ai_protocol);
        if (fd < 0) { last_error = errno; continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, address->ai_addr, address->ai_addrlen) == 0) {
            freeaddrinfo(addresses);
            return fd;
        }
        if (errno == EINPROGRESS) {
            int ready = wait_fd(fd, POLLOUT, deadline);
            int error = 0;
            socklen_t length = sizeof error;
            if (ready > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
                freeaddrinfo(addresses);
                return fd;
            }
            last_error = ready == 0 ? ETIMEDOUT : (error ? error : errno);
        } else {
            last_error = errno;
        }
        close(fd);
    }
    freeaddrinfo(addresses);
    forge_fail(status, FORGE_UNAVAILABLE, "cannot connect to %s:%u: %s", options->host, (unsigned)options->port,
               last_error == ETIMEDOUT ? "timed out" : strerror(last_error));
    return -1;
}

static int is_ip_address(const char *name) {
    unsigned char buffer[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buffer) == 1 || inet_pton(AF_INET6, name, buffer) == 1;
}

forge_transport *forge_transport_open(const forge_options *options, void *tls_context, uint32_t timeout_ms,
                                      forge_status *status, int *permanent) {
    *permanent = 0;
    uint64_t deadline = forge_now_ms() + timeout_ms;
    int fd = connect_tcp(options, deadline, status);
    if (fd < 0) return NULL;
    forge_transport *transport = calloc(1, sizeof *transport);
    if (transport == NULL) {
        close(fd);
        forge_fail(status, FORGE_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    transport->fd = fd;
    if (tls_context == NULL) return transport;

    ERR_clear_error();
    const char *name = options->server_name ? options->server_name : options->host;
    SSL *ssl = SSL_new((SSL_CTX *)tls_context);
    BIO_METHOD *method = NULL;
    BIO *bio = ssl ? nosignal_bio(&method, fd) : NULL;
    char reason[256];
    if (ssl == NULL || bio == NULL) {
        openssl_reason(reason, sizeof reason);
        forge_fail(status, FORGE_INTERNAL, "TLS: cannot start a session: %s", reason);
        goto failed;
    }
    SSL_set_bio(ssl, bio, bio);
    /* The method must outlive the BIO; OpenSSL keeps no reference, so it is kept in ex-data. */
    SSL_set_app_data(ssl, method);
    method = NULL;
    transport->ssl = ssl;
    if (is_ip_address(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
    } else {
        SSL_set_tlsext_host_name(ssl, name);
        SSL_set1_host(ssl, name);
    }
    for (;;) {
        int result = SSL_connect(ssl);
        if (result == 1) return transport;
        int error = SSL_get_error(ssl, result);
        short want = error == SSL_ERROR_WANT_READ ? POLLIN : error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (want != 0) {
            int ready = wait_fd(fd, want, deadline);
            if (ready > 0) continue;
            forge_fail(status, FORGE_UNAVAILABLE, "TLS handshake with %s:%u timed out", options->host, (unsigned)options->port);
            goto failed;
        }
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            *permanent = 1;
            forge_fail(status, FORGE_UNAVAILABLE, "TLS: the certificate of %s:%u was refused: %s", options->host,
                       (unsigned)options->port, X509_verify_cert_error_string(verify));
        } else {
            openssl_reason(reason, sizeof reason);
            forge_fail(status, FORGE_UNAVAILABLE, "TLS handshake with %s:%u failed: %s", options->host,
                       (unsigned)options->port, reason);
        }
        goto failed;
    }
failed:
    if (method != NULL) BIO_meth_free(method);
    forge_transport_close(transport);
    return NULL;
}

void forge_transport_close(forge_transport *transport) {
    if (transport == NULL) return;
    if (transport->ssl != NULL) {
        BIO_METHOD *method = SSL_get_app_data(transport->ssl);
        SSL_free(transport->ssl);
        BIO_meth_free(method);
    }
    if (transport->fd >= 0) close(transport->fd);
    free(transport);
}

int forge_transport_fd(const forge_transport *transport) {
    return transport->fd;
}

int forge_transport_pending(const forge_transport *transport) {
    return transport->ssl != NULL && SSL_pending(transport->ssl) > 0;
}

static long tls_outcome(forge_transport *transport, int result, short *want, char *error, size_t error_size, int reading) {
    int code = SSL_get_error(transport->ssl, result);
    switch (code) {
    case SSL_ERROR_WANT_READ: *want = POLLIN; return 0;
    case SSL_ERROR_WANT_WRITE: *want = POLLOUT; return 0;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(error, error_size, "the server closed the connection");
        return reading ? -2 : -1;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == EPIPE || errno == ECONNRESET) {
            snprintf(error, error_size, "the server closed the connection");
            ERR_clear_error();
            return reading ? -2 : -1;
        }
        /* fall through */
    default: {
        char reason[200];
        openssl_reason(reason, sizeof reason);
        snprintf(error, error_size, "TLS: %s", reason);
        return -1;
    }
    }
}

long forge_transport_read(forge_transport *transport, uint8_t *buffer, size_t size, short *want, char *error, size_t error_size) {
    *want = POLLIN;
    if (transport->ssl != NULL) {
        ERR_clear_error();
        errno = 0;
        int result = SSL_read(transport->ssl, buffer, size > INT32_MAX ? INT32_MAX : (int)size);
        if (result > 0) return result;
        return tls_outcome(transport, result, want, error, error_size, 1);
    }
    ssize_t received = recv(transport->fd, buffer, size, MSG_DONTWAIT);
    if (received > 0) return (long)received;
    if (received == 0) {
        snprintf(error, error_size, "the server closed the connection");
        return -2;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    snprintf(error, error_size, "reading from the server failed: %s", strerror(errno));
    return -1;
}

long forge_transport_write(forge_transport *transport, const uint8_t *buffer, size_t size, short *want, char *error, size_t error_size) {
    *want = POLLOUT;
    if (transport->ssl != NULL) {
        ERR_clear_error();
        errno = 0;
        int result = SSL_write(transport->ssl, buffer, size > INT32_MAX ? INT32_MAX : (int)size);
        if (result > 0) return result;
        return tls_outcome(transport, result, want, error, error_size, 0);
    }
    ssize_t sent = send(transport->fd, buffer, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) return (long)sent;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    snprintf(error, error_size, "writing to the server failed: %s", strerror(errno));
    return -1;
}
