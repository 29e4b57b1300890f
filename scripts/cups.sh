#!/usr/bin/env bash
# Makes a CUPS queue that prints to PDF files available for the tests:
# starts cupsd if it is not running (machines without systemd, CI), adds
# the queue ebill-pdf (cups-pdf) if missing, and writes its output under
# /var/spool/cups-pdf. Safe to run again.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
queue=ebill-pdf
out=/var/spool/cups-pdf

conf=/etc/cups/cups-pdf.conf
if ! grep -q "^Out ${out}/\${USER}" "$conf" 2>/dev/null; then
	$sudo sed -i -e '/^Out /d' -e '/^AnonDirName /d' "$conf"
	echo "Out ${out}/\${USER}" | $sudo tee -a "$conf" >/dev/null
	echo "AnonDirName ${out}/ANONYMOUS" | $sudo tee -a "$conf" >/dev/null
fi
$sudo mkdir -p "$out"

if ! LANG=C lpstat -r 2>/dev/null | grep -q "is running"; then
	$sudo cupsd
	for _ in $(seq 1 50); do
		LANG=C lpstat -r 2>/dev/null | grep -q "is running" && break
		sleep 0.1
	done
fi
if ! lpstat -e 2>/dev/null | grep -qx "$queue"; then
	$sudo lpadmin -p "$queue" -E -v cups-pdf:/ -P /usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd
	$sudo cupsenable "$queue" 2>/dev/null || true
	$sudo cupsaccept "$queue" 2>/dev/null || true
fi
lpstat -e | grep -qx "$queue"
