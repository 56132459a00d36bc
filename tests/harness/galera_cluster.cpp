#include "galera_cluster.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "files_detail.h"
#include "mariadb_detail.h"
#include "servers.h"

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;
using detail::file_size_or_zero;
using detail::read_file_from;
using std::chrono::seconds;

// A joiner copies the whole data directory from its donor (rsync SST) before it is ready.
constexpr auto kStartTimeout = seconds(180);
constexpr auto kStopGrace = seconds(60);
constexpr auto kLeaveTimeout = seconds(60);
constexpr std::size_t kMaxSocketPath = 107;
constexpr const char* kProvider = "/usr/lib/galera/libgalera_smm.so";

struct Account {
  uid_t uid;
  gid_t gid;
};

// The account the servers run as when the harness is root; nullopt otherwise (they then run
// as the harness's own user, which owns everything already).
std::optional<Account> server_account() {
  if (!detail::running_as_root()) return std::nullopt;
  const passwd* pw = ::getpwnam("mysql");
  if (pw == nullptr) {
    throw std::runtime_error(
        "the Galera cluster runs as the 'mysql' user when the tests run as root, and there is "
        "none: install mariadb-server (scripts/install-deps.sh), which creates it");
  }
  return Account{pw->pw_uid, pw->pw_gid};
}

void chown_tree(const fs::path& root, const Account& account) {
  auto change = [&](const fs::path& p) {
    if (::lchown(p.c_str(), account.uid, account.gid) != 0) {
      throw std::system_error(errno, std::generic_category(), "chown " + p.string());
    }
  };
  change(root);
  for (const auto& entry : fs::recursive_directory_iterator(root)) change(entry.path());
}

// Temporary directories are created private to their owner (mkdtemp), so the mysql user
// could not even reach its own data directory below one. Only the right to pass through is
// added, on directories the harness owns; what they list stays private.
void let_everyone_traverse(const fs::path& dir) {
  for (fs::path p = dir; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || st.st_uid != ::geteuid()) continue;
    if ((st.st_mode & S_IXOTH) == 0) {
      fs::permissions(p, fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);
    }
  }
}

std::map<std::string, std::string> parse_status(const std::string& rows) {
  std::map<std::string, std::string> values;
  std::istringstream lines(rows);
  std::string line;
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string name = line.substr(0, tab);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    values[name] = line.substr(tab + 1);
  }
  return values;
}

}  // namespace

GaleraCluster::GaleraCluster(const fs::path& dir) : dir_(fs::absolute(dir)) {
  for (int i = 0; i < kNodes; ++i) {
    nodes_[static_cast<std::size_t>(i)].dir = dir_ / ("node" + std::to_string(i + 1));
  }
  const fs::path longest = nodes_.back().dir / "mysqld.sock";
  if (longest.string().size() > kMaxSocketPath) {
    throw std::runtime_error("Galera socket path is longer than " + std::to_string(kMaxSocketPath) +
                             " bytes: " + longest.string() + " (use a shorter directory)");
  }
}

GaleraCluster::~GaleraCluster() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "stopping the Galera cluster in " << dir_ << ": " << e.what() << "\n";
  }
}

GaleraCluster::Node& GaleraCluster::node(int number) {
  if (number < 1 || number > kNodes) {
    throw std::out_of_range("Galera node " + std::to_string(number) + " (nodes are 1 to 3)");
  }
  return nodes_[static_cast<std::size_t>(number - 1)];
}

const GaleraCluster::Node& GaleraCluster::node(int number) const {
  return const_cast<GaleraCluster*>(this)->node(number);
}

fs::path GaleraCluster::error_log(int number) const { return node(number).dir / "mariadb.err"; }

void GaleraCluster::prepare_node(Node& n, bool with_data) {
  if (!fs::exists(kProvider)) {
    throw std::runtime_error(std::string("the Galera provider ") + kProvider +
                             " is missing: install galera-4 and rsync (scripts/install-deps.sh)");
  }
  fs::create_directories(n.dir / "tmp");
  const fs::path data = n.dir / "data";
  if (!fs::exists(data)) {
    if (with_data) {
      const fs::path partial = n.dir / "data.partial";
      fs::remove_all(partial);
      fs::copy(detail::mariadb_template_data_dir(), partial, fs::copy_options::recursive);
      fs::rename(partial, data);
    } else {
      // A joiner's data comes whole from its donor by SST.
      fs::create_directories(data);
    }
  }
  {
    std::ofstream init(n.dir / "init.sql");
    for (const char* host : {"127.0.0.1", "localhost"}) {
      const std::string account = std::string("'") + MariaDbServer::kAdminUser + "'@'" + host + "'";
      init << "CREATE USER IF NOT EXISTS " << account << " IDENTIFIED BY '"
           << MariaDbServer::kAdminPassword << "';\n"
           << "GRANT ALL PRIVILEGES ON *.* TO " << account << " WITH GRANT OPTION;\n";
    }
    if (!init) throw std::runtime_error("cannot write " + (n.dir / "init.sql").string());
  }
  if (const auto account = server_account()) {
    let_everyone_traverse(dir_);
    chown_tree(n.dir, *account);
  }
}

// A node killed while applying DDL keeps that statement's entry in its own ddl_recovery.log.
// Killed, it has no saved position (grastate.dat says seqno -1) and so receives a full SST;
// rsync SST replaces the database directories and InnoDB files but not that log, and the
// server replays the stale entry after the transfer: it drops a table the donor has just
// sent, while its position says the table exists. The node then fails the first write set
// on that table and is voted out as inconsistent. The log describes data the SST replaces
// wholesale, so it goes; a node with a saved position keeps it.
void GaleraCluster::forget_stale_ddl_log(const Node& n) {
  std::ifstream state(n.dir / "data" / "grastate.dat");
  std::string line;
  bool unknown_position = false;
  while (std::getline(state, line)) {
    std::istringstream fields(line);
    std::string key;
    std::string value;
    if (fields >> key >> value && key == "seqno:") unknown_position = value == "-1";
  }
  if (unknown_position) fs::remove(n.dir / "data" / "ddl_recovery.log");
}

// A joiner that never syncs usually waits for its donor (an rsync SST first
// flushes and locks the donor's tables). What the other nodes were doing at
// that moment, while they still run, says which one and why: their sessions
// and the end of their logs.
std::string GaleraCluster::others_at_a_stalled_join(int joiner) {
  std::string out;
  for (int i = 1; i <= kNodes; ++i) {
    if (i == joiner || !node_running(i)) continue;
    out += "--- node " + std::to_string(i) + ": state and sessions ---\n";
    try {
      out += status(i, "wsrep_local_state_comment") + "\n";
      out += sql(i,
                 "SELECT id, user, db, command, time, state, LEFT(info, 200) "
                 "FROM information_schema.processlist WHERE command <> 'Sleep' ORDER BY id");
    } catch (const std::exception& e) {
      out += std::string("(not readable: ") + e.what() + ")\n";
    }
    out += "--- node " + std::to_string(i) + ": mariadb.err (tail) ---\n" +
           tail_file(error_log(i), 30);
  }
  return out;
}

void GaleraCluster::launch(int number, bool bootstrap) {
  Node& n = node(number);
  prepare_node(n, bootstrap);
  if (!bootstrap) forget_stale_ddl_log(n);
  if (bootstrap && bootstrapped_) {
    // Galera marks every node unsafe to bootstrap after a full stop, not knowing which one
    // was last; the harness always bootstraps node 1.
    const fs::path state = n.dir / "data" / "grastate.dat";
    std::ifstream in(state);
    std::string text;
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("safe_to_bootstrap:", 0) == 0) line = "safe_to_bootstrap: 1";
      text += line + "\n";
    }
    in.close();
    // Rewritten in place, so the file keeps its owner.
    if (!text.empty()) std::ofstream(state, std::ios::trunc) << text;
  }

  const fs::path error_log = n.dir / "mariadb.err";
  const fs::path output = n.dir / "mariadbd.out";
  for (int attempt = 1;; ++attempt) {
    if (!n.ports_fixed) {
      n.sql_port = free_loopback_port();
      n.gmcast_port = free_loopback_port();
      n.ist_port = free_loopback_port();
      n.sst_port = free_loopback_port();
    }
    std::string members;
    for (const Node& other : nodes_) {
      if (other.gmcast_port == 0) continue;
      members += (members.empty() ? "" : ",") + std::string("127.0.0.1:") +
                 std::to_string(other.gmcast_port);
    }
    const std::string self = "127.0.0.1:";
    std::vector<std::string> args;
    if (server_account()) {
      // mariadbd's own --user would switch users after the start, and a change of user
      // clears the parent-death signal Process sets: a killed test would leave the nodes
      // running. setpriv switches first and sets the signal again.
      args = {find_program("setpriv").string(),
              "--reuid=mysql",
              "--regid=mysql",
              "--init-groups",
              "--pdeathsig=KILL",
              "--"};
    }
    args.insert(
        args.end(),
        {detail::mariadb_programs().mariadbd.string(), "--no-defaults",
         "--datadir=" + (n.dir / "data").string(), "--socket=" + (n.dir / "mysqld.sock").string(),
         "--port=" + std::to_string(n.sql_port), "--bind-address=127.0.0.1",
         "--pid-file=" + (n.dir / "mariadb.pid").string(), "--log-error=" + error_log.string(),
         "--tmpdir=" + (n.dir / "tmp").string(), "--skip-name-resolve",
         // Three servers at once: small buffers keep the cluster near 400 MB.
         "--innodb-buffer-pool-size=64M", "--max-connections=200", "--wsrep-on=ON",
         std::string("--wsrep-provider=") + kProvider, "--binlog-format=ROW",
         "--innodb-autoinc-lock-mode=2", "--wsrep-sst-method=rsync",
         "--wsrep-node-name=node" + std::to_string(number),
         "--wsrep-cluster-address=gcomm://" + members,
         "--wsrep-node-address=" + self + std::to_string(n.gmcast_port),
         "--wsrep-node-incoming-address=" + self + std::to_string(n.sql_port),
         "--wsrep-sst-receive-address=" + self + std::to_string(n.sst_port),
         "--wsrep-provider-options=gmcast.listen_addr=tcp://" + self +
             std::to_string(n.gmcast_port) + ";ist.recv_addr=" + self + std::to_string(n.ist_port) +
             ";gcache.size=64M"});
    if (bootstrap) args.emplace_back("--wsrep-new-cluster");
    // Only the node that creates the cluster creates the account; the others receive it.
    if (bootstrap && !bootstrapped_) args.push_back("--init-file=" + (n.dir / "init.sql").string());

    const std::uintmax_t log_offset = file_size_or_zero(error_log);
    Process::Options o;
    o.stdout_file = output;
    o.stderr_file = output;
    o.append_output = true;
    n.process = std::make_unique<Process>(args, o);
    const bool ready =
        wait_until([&] { return !n.process->running() || wait_synced(number, 0, seconds(0)); },
                   kStartTimeout, std::chrono::milliseconds(200)) &&
        n.process->running();
    if (ready) {
      n.ports_fixed = true;
      if (bootstrap) bootstrapped_ = true;
      return;
    }
    const bool died = !n.process->running();
    n.process->signal(SIGKILL);
    n.process.reset();
    const std::string log = read_file_from(error_log, log_offset);
    if (died && !n.ports_fixed && attempt < 5 &&
        log.find("Address already in use") != std::string::npos) {
      continue;
    }
    throw std::runtime_error("Galera node " + std::to_string(number) + " in " + n.dir.string() +
                             (died ? " exited during start-up" : " was not synced within 180 s") +
                             "\n--- mariadb.err (tail) ---\n" + tail_file(error_log) +
                             "--- mariadbd output ---\n" + tail_file(output, 20) +
                             (died ? "" : others_at_a_stalled_join(number)));
  }
}

void GaleraCluster::start() {
  bool any_running = false;
  for (int i = 1; i <= kNodes; ++i) any_running = any_running || node_running(i);
  if (!any_running) launch(1, true);
  // One after the other, from this thread: the parent-death signal of a node goes to it
  // when the thread that started it ends (see Process), so a helper thread would take
  // its node down with it.
  for (int i = 1; i <= kNodes; ++i) {
    if (!node_running(i)) launch(i, false);
  }
  for (int i = 1; i <= kNodes; ++i) {
    if (!wait_synced(i, kNodes, seconds(60))) {
      throw std::runtime_error(
          "Galera node " + std::to_string(i) + " does not see a synced cluster of 3: size " +
          status(i, "wsrep_cluster_size") + ", state " + status(i, "wsrep_local_state_comment"));
    }
  }
}

void GaleraCluster::stop() {
  for (int i = kNodes; i >= 1; --i) stop_node(i);
}

void GaleraCluster::stop_node(int number) {
  Node& n = node(number);
  if (!n.process) return;
  const int code = n.process->stop(kStopGrace);
  n.process.reset();
  if (code != 0) {
    std::cerr << "Galera node " << number << " exited with status " << code << " on SIGTERM\n";
  }
}

void GaleraCluster::kill_node(int number) {
  Node& n = node(number);
  if (!n.process) return;
  n.process->signal(SIGKILL);
  n.process->wait(std::chrono::milliseconds::max());
  n.process.reset();
}

void GaleraCluster::start_node(int number) {
  if (node_running(number)) return;
  bool others = false;
  for (int i = 1; i <= kNodes; ++i) others = others || (i != number && node_running(i));
  if (!others) throw std::logic_error("start_node: no running node to join; use start()");
  launch(number, false);
}

bool GaleraCluster::node_running(int number) {
  Node& n = node(number);
  return n.process && n.process->running();
}

std::optional<pid_t> GaleraCluster::pid(int number) {
  if (!node_running(number)) return std::nullopt;
  return node(number).process->pid();
}

void GaleraCluster::isolate_node(int number) {
  sql(number, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
  const bool left = wait_until([&] { return status(number, "wsrep_cluster_status") != "Primary"; },
                               kLeaveTimeout, std::chrono::milliseconds(200));
  if (!left)
    throw std::runtime_error("isolated Galera node " + std::to_string(number) +
                             " is still in the primary component");
}

void GaleraCluster::rejoin_node(int number) {
  sql(number, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
  if (!wait_synced(number, kNodes, kStartTimeout)) {
    throw std::runtime_error("Galera node " + std::to_string(number) + " did not rejoin: state " +
                             status(number, "wsrep_local_state_comment"));
  }
}

bool GaleraCluster::wait_synced(int number, int size, std::chrono::milliseconds timeout) {
  auto synced = [&] {
    try {
      const auto values = parse_status(
          sql(number,
              "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', "
              "'wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_cluster_size')"));
      auto value = [&](const char* name) {
        const auto it = values.find(name);
        return it == values.end() ? std::string() : it->second;
      };
      return value("wsrep_ready") == "ON" && value("wsrep_local_state_comment") == "Synced" &&
             value("wsrep_cluster_status") == "Primary" &&
             (size == 0 || value("wsrep_cluster_size") == std::to_string(size));
    } catch (const std::exception&) {
      return false;  // not accepting connections yet, or the account has not arrived
    }
  };
  if (timeout <= std::chrono::milliseconds(0)) return synced();
  return wait_until(synced, timeout, std::chrono::milliseconds(200));
}

std::string GaleraCluster::status(int number, const std::string& variable) {
  const auto values = parse_status(sql(number, "SHOW GLOBAL STATUS LIKE '" + variable + "'"));
  const auto it = values.find(variable);
  return it == values.end() ? std::string() : it->second;
}

std::uint16_t GaleraCluster::port(int number) const { return node(number).sql_port; }

std::string GaleraCluster::node_url(int number, const std::string& database) const {
  return std::string("mysql://") + MariaDbServer::kAdminUser + ":" + MariaDbServer::kAdminPassword +
         "@127.0.0.1:" + std::to_string(port(number)) + "/" + database;
}

std::string GaleraCluster::url(const std::string& database, int first) const {
  node(first);  // throws for a node that does not exist
  std::string hosts;
  for (int k = 0; k < kNodes; ++k) {
    const int i = (first - 1 + k) % kNodes + 1;
    hosts += (k == 0 ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port(i));
  }
  return std::string("mysql://") + MariaDbServer::kAdminUser + ":" + MariaDbServer::kAdminPassword +
         "@" + hosts + "/" + database;
}

std::string GaleraCluster::create_database(const std::string& database) {
  const std::string name = detail::quote_identifier(database);
  sql(1, "DROP DATABASE IF EXISTS " + name + ";\nCREATE DATABASE " + name +
             " CHARACTER SET utf8mb4;\n");
  return node_url(1, database);
}

std::string GaleraCluster::sql(int number, const std::string& statements,
                               const std::string& database) {
  return detail::admin_sql(node(number).dir, port(number), statements, database);
}

}  // namespace statesink::testing
