// A throwaway PKI for the tls tests, made with OpenSSL's API (fast EC keys, no openssl CLI):
// a CA and leaf certificates with chosen SANs, serials and validity, written as PEM files.
#pragma once
#include <string>
#include <vector>

namespace strowger::modules::tls::testing {

struct Identity {
  std::string certificate;  // PEM file paths
  std::string private_key;
};

class TestPki {
 public:
  // A new CA (CN=name) in dir; dir must exist.
  TestPki(std::string dir, std::string name);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& ca_file() const { return ca_file_; }
  // A leaf signed by this CA, valid from now+not_before_s to now+not_after_s.
  Identity issue(const std::string& file_stem, const std::string& cn, const std::string& sans,
                 long serial, long not_before_s = -3600, long not_after_s = 86400 * 90) const;
  // A key that matches nothing issued here.
  std::string stray_key(const std::string& file_stem) const;

 private:
  std::string dir_;
  std::string ca_file_;
  void* ca_cert_ = nullptr;  // X509*
  void* ca_key_ = nullptr;   // EVP_PKEY*
};

// A fresh directory under /tmp, removed with its files by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace strowger::modules::tls::testing
