// The loopback OpenAI-compatible server of the rollout tests: see fake_openai_server.hpp.
#include "fake_openai_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace tamis::test {

namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t k = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (k <= 0) return false;
    data.remove_prefix(static_cast<size_t>(k));
  }
  return true;
}

std::string reply(int status, const char* text, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + text + "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

}  // namespace

FakeOpenAiServer::FakeOpenAiServer(int port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
  if (::listen(listen_fd_, 1024) != 0) throw std::runtime_error("listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeOpenAiServer::~FakeOpenAiServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  hold_cv_.notify_all();
  for (auto& t : workers_) t.join();
  for (int fd : fds_) ::close(fd);
}

void FakeOpenAiServer::set_fault(Fault fault, int first_n, int retry_after, int delay_ms) {
  std::lock_guard lock(mu_);
  fault_ = fault;
  fault_first_n_ = first_n;
  retry_after_ = retry_after;
  delay_ms_ = delay_ms;
}

void FakeOpenAiServer::hold_after(int64_t n) {
  std::lock_guard lock(mu_);
  hold_budget_ = n;
}

void FakeOpenAiServer::release() {
  {
    std::lock_guard lock(mu_);
    hold_budget_ = -1;
  }
  hold_cv_.notify_all();
}

void FakeOpenAiServer::set_responder(Responder responder) {
  std::lock_guard lock(mu_);
  responder_ = responder ? std::make_shared<const Responder>(std::move(responder)) : nullptr;
}

std::map<std::string, int> FakeOpenAiServer::per_key() const {
  std::lock_guard lock(mu_);
  return per_key_;
}

std::map<std::string, int> FakeOpenAiServer::per_model_key() const {
  std::lock_guard lock(mu_);
  return per_model_key_;
}

std::string FakeOpenAiServer::last_body() const {
  std::lock_guard lock(mu_);
  return last_body_;
}

std::vector<std::chrono::steady_clock::time_point> FakeOpenAiServer::arrivals(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = arrivals_.find(key);
  return it == arrivals_.end() ? std::vector<std::chrono::steady_clock::time_point>{} : it->second;
}

std::set<std::string> FakeOpenAiServer::answered_keys() const {
  std::lock_guard lock(mu_);
  return answered_keys_;
}

std::string FakeOpenAiServer::last_authorization() const {
  std::lock_guard lock(mu_);
  return authorization_;
}

int64_t FakeOpenAiServer::sum_of_integers(const std::string& text) {
  int64_t sum = 0;
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    int64_t v = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) v = (v * 10 + (text[i++] - '0')) % 1000000007;
    sum += v;
  }
  return sum;
}

bool FakeOpenAiServer::right_for(const std::string& user, int64_t seed, const std::string& model) {
  int64_t shift = 0;  // a name ending in "+K"
  const size_t plus = model.rfind('+');
  if (plus != std::string::npos && plus + 1 < model.size() &&
      model.find_first_not_of("0123456789", plus + 1) == std::string::npos && model.size() - plus <= 10)
    shift = std::stoll(model.substr(plus + 1));
  const int64_t wrong = (sum_of_integers(user) + shift) % 5;
  return ((seed % 4) + 4) % 4 >= wrong;
}

std::string FakeOpenAiServer::response_for(const std::string& user, int64_t seed, const std::string& model) {
  const int64_t s = sum_of_integers(user);
  return "Adding the numbers step by step gives the total. The answer is \\boxed{" + std::to_string(right_for(user, seed, model) ? s : s + 1) +
         "}.";
}

void FakeOpenAiServer::accept_loop() {
  while (!stop_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stop_) return;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    if (stop_) {
      ::close(fd);
      return;
    }
    fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeOpenAiServer::serve(int fd) {
  std::string buf;
  char chunk[65536];
  for (;;) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t k = ::recv(fd, chunk, sizeof chunk, 0);
      if (k <= 0) return;
      buf.append(chunk, static_cast<size_t>(k));
    }
    std::string head = buf.substr(0, head_end);
    size_t length = 0;
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto p = lower.find("content-length:"); p != std::string::npos) length = std::stoul(lower.substr(p + 15));
    while (buf.size() < head_end + 4 + length) {
      const ssize_t k = ::recv(fd, chunk, sizeof chunk, 0);
      if (k <= 0) return;
      buf.append(chunk, static_cast<size_t>(k));
    }
    const std::string body = buf.substr(head_end + 4, length);
    buf.erase(0, head_end + 4 + length);
    const int now = ++concurrent_;
    for (int m = max_concurrent_.load(); now > m && !max_concurrent_.compare_exchange_weak(m, now);) {
    }
    std::string partial;
    bool reset = false;
    const std::string out = handle(head, body, partial, reset);
    --concurrent_;
    if (reset) {
      send_all(fd, partial);
      linger l{1, 0};  // close with RST
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    if (out.empty() || !send_all(fd, out)) return;
  }
}

std::string FakeOpenAiServer::handle(const std::string& head, const std::string& body, std::string& partial, bool& reset) {
  ++requests_;
  const bool chat = head.rfind("POST /v1/chat/completions ", 0) == 0;
  const bool completions = head.rfind("POST /v1/completions ", 0) == 0;
  if (!chat && !completions) return reply(404, "Not Found", "{\"error\":\"no such route\"}");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return reply(400, "Bad Request", "{\"error\":\"body is not JSON\"}");
  std::string user, model;
  int64_t seed = 0, max_tokens = 1 << 30;
  std::string_view s;
  if (doc["model"].get_string().get(s) == simdjson::SUCCESS) model = std::string(s);
  if (doc["seed"].get_int64().get(seed) != simdjson::SUCCESS) seed = 0;
  int64_t mt;
  if (doc["max_tokens"].get_int64().get(mt) == simdjson::SUCCESS) max_tokens = mt;
  if (chat) {
    simdjson::dom::array messages;
    if (doc["messages"].get_array().get(messages) != simdjson::SUCCESS) return reply(400, "Bad Request", "{\"error\":\"no messages\"}");
    for (auto m : messages) {
      std::string_view role, content;
      if (m["role"].get_string().get(role) == simdjson::SUCCESS && role == "user" &&
          m["content"].get_string().get(content) == simdjson::SUCCESS)
        user = std::string(content);
    }
  } else if (doc["prompt"].get_string().get(s) == simdjson::SUCCESS) {
    user = std::string(s);
  }
  const std::string key = user + "#" + std::to_string(seed);
  int nth;
  Fault fault;
  int retry_after, delay_ms;
  std::shared_ptr<const Responder> responder;
  {
    std::unique_lock lock(mu_);
    nth = ++per_key_[key];
    ++per_model_key_[model + "|" + key];
    last_body_ = body;
    arrivals_[key].push_back(std::chrono::steady_clock::now());
    const std::string_view auth_name = "\r\nauthorization: ";
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto p = lower.find(auth_name); p != std::string::npos) {
      const size_t start = p + auth_name.size();
      authorization_ = head.substr(start, head.find("\r\n", start) - start);
    }
    fault = nth <= fault_first_n_ ? fault_ : Fault::none;
    retry_after = retry_after_;
    delay_ms = delay_ms_;
    responder = responder_;
    if (hold_budget_ >= 0) {
      if (hold_budget_ == 0) {
        hold_cv_.wait(lock, [&] { return stop_.load() || hold_budget_ != 0; });
        if (stop_) return std::string();
      }
      if (hold_budget_ > 0) --hold_budget_;
    }
  }
  if (user.find("ALWAYS_FAIL") != std::string::npos) return reply(500, "Internal Server Error", "{\"error\":\"this prompt always fails\"}");
  if (user.find("BAD_REQUEST") != std::string::npos) return reply(400, "Bad Request", "{\"error\":\"the server refuses this prompt\"}");
  switch (fault) {
    case Fault::status429:
      return reply(429, "Too Many Requests", "{\"error\":\"slow down\"}", "Retry-After: " + std::to_string(retry_after) + "\r\n");
    case Fault::status500: return reply(500, "Internal Server Error", "{\"error\":\"injected\"}");
    case Fault::malformed_json: return reply(200, "OK", "{\"choices\": [{\"message\": ");
    case Fault::reset_mid_body: {
      const std::string full = reply(200, "OK", std::string(400, ' ') + "{}");
      partial = full.substr(0, full.size() - 300);
      reset = true;
      return std::string();
    }
    case Fault::slow: std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms)); break;
    case Fault::none: break;
  }
  std::optional<std::string> scripted;
  if (responder) scripted = (*responder)(model, user, seed);
  const std::string text = scripted ? std::move(*scripted) : response_for(user, seed, model);
  const bool truncated = max_tokens < 8;
  const std::string finish = truncated ? "length" : "stop";
  const std::string usage = "\"usage\":{\"prompt_tokens\":" + std::to_string(user.size() / 4 + 1) + ",\"completion_tokens\":12,\"total_tokens\":" +
                            std::to_string(user.size() / 4 + 13) + "}";
  std::string out;
  if (chat)
    out = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":" + quote(model) +
          ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + quote(text) + "},\"finish_reason\":\"" + finish +
          "\"}]," + usage + "}";
  else
    out = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"model\":" + quote(model) + ",\"choices\":[{\"index\":0,\"text\":" + quote(text) +
          ",\"finish_reason\":\"" + finish + "\"}]," + usage + "}";
  {
    std::lock_guard lock(mu_);
    answered_keys_.insert(key);
  }
  ++answered_;
  return reply(200, "OK", out);
}

}  // namespace tamis::test
