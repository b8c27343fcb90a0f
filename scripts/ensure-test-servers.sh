#!/usr/bin/env bash
# Install the system programs the tests drive (Debian packages), when missing and when we may.
# Tests that need one skip with a clear message where it cannot be installed.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)  # SAML signatures (pysaml2 runs it)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test servers: ${need[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null 2>&1 \
      || echo "warning: could not install ${need[*]}; browser/IMAP/SAML tests will be skipped"
  else
    echo "note: ${need[*]} missing and not root; browser/IMAP/SAML tests will be skipped"
  fi
fi
exit 0
