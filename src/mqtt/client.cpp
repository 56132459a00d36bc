#include "mqtt/client.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace statesink::mqtt {
namespace {

void init_library() {
  static std::once_flag once;
  // Never cleaned up: the library holds process-wide OpenSSL state that other
  // clients may still use until exit.
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string error_text(int rc) {
  if (rc == MOSQ_ERR_ERRNO) {
    return std::strerror(errno);
  }
  return mosquitto_strerror(rc);
}

}  // namespace

struct ClientCallbacks {
  static Client& self(void* obj) { return *static_cast<Client*>(obj); }

  static void connect(mosquitto* /*mosq*/, void* obj, int rc, int flags,
                      const mosquitto_property* /*props*/) {
    Client& c = self(obj);
    if (rc != 0) {
      if (c.callbacks_.disconnected) {
        c.callbacks_.disconnected(rc);
      }
      return;
    }
    if (c.callbacks_.connected) {
      c.callbacks_.connected((flags & 0x01) != 0);
    }
  }

  static void disconnect(mosquitto* /*mosq*/, void* obj, int rc,
                         const mosquitto_property* /*props*/) {
    Client& c = self(obj);
    if (c.callbacks_.disconnected) {
      c.callbacks_.disconnected(rc);
    }
  }

  static void message(mosquitto* /*mosq*/, void* obj, const mosquitto_message* m,
                      const mosquitto_property* /*props*/) {
    Client& c = self(obj);
    if (!c.callbacks_.message) {
      return;
    }
    Received r;
    r.topic = m->topic != nullptr ? std::string_view(m->topic) : std::string_view();
    r.payload =
        std::string_view(static_cast<const char*>(m->payload),
                         m->payload != nullptr ? static_cast<std::size_t>(m->payloadlen) : 0);
    r.mid = m->mid;
    r.qos = m->qos;
    r.retain = m->retain;
    c.callbacks_.message(r);
    // Queueing this message's PUBACK wrote a byte to libmosquitto's wake-up
    // socket pair, which nothing drains outside mosquitto_loop(): once full,
    // that write fails with EAGAIN, and read() would take that errno for an
    // empty socket and end the burst after every message.
    errno = 0;
  }

  static void subscribe(mosquitto* /*mosq*/, void* obj, int /*mid*/, int count, const int* granted,
                        const mosquitto_property* /*props*/) {
    Client& c = self(obj);
    if (c.callbacks_.subscribed) {
      c.callbacks_.subscribed(std::vector<int>(granted, granted + count));
    }
  }

  static void publish(mosquitto* /*mosq*/, void* obj, int mid, int /*reason*/,
                      const mosquitto_property* /*props*/) {
    Client& c = self(obj);
    if (c.callbacks_.published) {
      c.callbacks_.published(mid);
    }
  }
};

Client::Client(ClientOptions options, Callbacks callbacks)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      handle_(nullptr, mosquitto_destroy) {
  init_library();
  handle_.reset(mosquitto_new(options_.client_id.c_str(), options_.clean_session, this));
  if (!handle_) {
    throw MqttError("cannot create an MQTT client: " + error_text(MOSQ_ERR_ERRNO) +
                        " (a client id is needed when the session is kept)",
                    MOSQ_ERR_INVAL);
  }
  mosquitto* m = handle_.get();
  // Threaded mode: see the class comment on when PUBACKs leave.
  mosquitto_threaded_set(m, true);
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
                       options_.protocol == Protocol::v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  mosquitto_connect_v5_callback_set(m, ClientCallbacks::connect);
  mosquitto_disconnect_v5_callback_set(m, ClientCallbacks::disconnect);
  mosquitto_message_v5_callback_set(m, ClientCallbacks::message);
  mosquitto_subscribe_v5_callback_set(m, ClientCallbacks::subscribe);
  mosquitto_publish_v5_callback_set(m, ClientCallbacks::publish);
  if (options_.protocol == Protocol::v5 && options_.receive_maximum > 0) {
    mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, options_.receive_maximum);
  }

  const config::MqttUrl& url = options_.url;
  if (!url.user.empty()) {
    int rc = mosquitto_username_pw_set(m, url.user.c_str(),
                                       url.password.empty() ? nullptr : url.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
      fail("set the MQTT user name", rc);
    }
  }
  if (url.tls) {
    auto option = [&](const char* key) -> const char* {
      auto it = url.options.find(key);
      return it == url.options.end() ? nullptr : it->second.c_str();
    };
    const char* ca = option("ca");
    if (ca == nullptr && option("cert") != nullptr) {
      throw MqttError("a client certificate needs the CA file too: add ca=FILE to the mqtts:// URL",
                      MOSQ_ERR_INVAL);
    }
    // Without a CA file, the system's trust store verifies the broker.
    int rc = ca != nullptr
                 ? mosquitto_tls_set(m, ca, nullptr, option("cert"), option("key"), nullptr)
                 : mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      fail("set up TLS (check the ca, cert and key files in the URL)", rc);
    }
    const char* insecure = option("insecure");
    if (insecure != nullptr && std::string_view(insecure) == "true") {
      mosquitto_tls_insecure_set(m, true);
    }
  }
}

Client::~Client() = default;

void Client::fail(const std::string& operation, int rc) const {
  throw MqttError("cannot " + operation + " at " + where() + ": " + error_text(rc), rc);
}

void Client::connect() {
  mosquitto_property* props = nullptr;
  if (options_.protocol == Protocol::v5 && !options_.clean_session) {
    // MQTT 5 ends a session at disconnect unless told otherwise; keep it as
    // 3.1.1 does.
    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, UINT32_MAX);
  }
  int rc = mosquitto_connect_bind_v5(handle_.get(), options_.url.host.c_str(), options_.url.port,
                                     static_cast<int>(options_.keepalive.count()), nullptr, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) {
    fail("connect to the MQTT broker", rc);
  }
  more_to_read_ = false;
}

void Client::disconnect() { mosquitto_disconnect(handle_.get()); }

void Client::loop(std::chrono::milliseconds timeout) {
  int rc = mosquitto_loop(handle_.get(), static_cast<int>(timeout.count()), 1);
  if (rc != MOSQ_ERR_SUCCESS) {
    fail("talk to the MQTT broker", rc);
  }
}

void Client::read(std::chrono::milliseconds timeout, int max_packets) {
  mosquitto* m = handle_.get();
  const int fd = mosquitto_socket(m);
  if (fd < 0) {
    fail("talk to the MQTT broker", MOSQ_ERR_NO_CONN);
  }
  if (!more_to_read_) {
    pollfd p{};
    p.fd = fd;
    p.events = static_cast<short>(POLLIN | (mosquitto_want_write(m) ? POLLOUT : 0));
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) {
      fail("wait for the MQTT broker", MOSQ_ERR_ERRNO);
    }
    if (ready <= 0 || (p.revents & (POLLIN | POLLERR | POLLHUP)) == 0) {
      return;
    }
  }
  more_to_read_ = false;
  for (int packets = 0;; ++packets) {
    if (packets == max_packets) {
      more_to_read_ = true;
      return;
    }
    // mosquitto_loop_read() reads one packet here (none of ours are queued
    // for QoS 2), or part of one, and tells an empty socket only by errno,
    // as mosquitto_loop() itself finds out.
    errno = 0;
    const int rc = mosquitto_loop_read(m, 1);
    const int error = errno;
    if (rc != MOSQ_ERR_SUCCESS) {
      errno = error;
      fail("talk to the MQTT broker", rc);
    }
    if (mosquitto_socket(m) < 0) {
      fail("talk to the MQTT broker", MOSQ_ERR_NO_CONN);
    }
    if (error == EAGAIN || error == EWOULDBLOCK) {
      return;
    }
  }
}

void Client::write() {
  mosquitto* m = handle_.get();
  if (!mosquitto_want_write(m)) {
    return;
  }
  // One call sends every queued packet until the socket would block.
  const int rc = mosquitto_loop_write(m, 1);
  if (rc != MOSQ_ERR_SUCCESS) {
    fail("talk to the MQTT broker", rc);
  }
}

void Client::keep_alive() {
  const int rc = mosquitto_loop_misc(handle_.get());
  if (rc != MOSQ_ERR_SUCCESS) {
    fail("talk to the MQTT broker", rc);
  }
}

void Client::subscribe(const std::vector<std::string>& filters, int qos) {
  std::vector<char*> pointers;
  pointers.reserve(filters.size());
  for (const auto& f : filters) {
    pointers.push_back(const_cast<char*>(f.c_str()));
  }
  const int options = options_.protocol == Protocol::v5 ? MQTT_SUB_OPT_SEND_RETAIN_NEW : 0;
  int rc = mosquitto_subscribe_multiple(handle_.get(), nullptr, static_cast<int>(pointers.size()),
                                        pointers.data(), qos, options, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    fail("subscribe", rc);
  }
}

int Client::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  int mid = 0;
  const std::string topic_text(topic);
  int rc = mosquitto_publish(handle_.get(), &mid, topic_text.c_str(),
                             static_cast<int>(payload.size()), payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    fail("publish to " + topic_text, rc);
  }
  return mid;
}

std::string describe_reason(int reason, Protocol protocol) {
  if (protocol == Protocol::v5) {
    return mosquitto_reason_string(reason);
  }
  if (reason >= 1 && reason <= 5) {
    return mosquitto_connack_string(reason);
  }
  return mosquitto_strerror(reason);
}

}  // namespace statesink::mqtt
