# ebill — medical e-bill management system.
# `make run` starts the product on this machine; `make test` passes the tests.
# Both install what they need (scripts/deps.sh).

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
DEMO    ?= demo-data
export LANG := C.UTF-8

.PHONY: all run test unit fuzz bench build build-windows winres msi test-windows lint deps deps-test cups screenshots his-samples clean

all: build

deps:
	@scripts/deps.sh

deps-test:
	@scripts/deps.sh test

## cups: a running cupsd with the cups-pdf queue ebill-pdf, which the printing tests print through.
cups: deps-test
	@scripts/cups.sh

## run: the server on embedded SQLite and a demo station enrolled with it (see scripts/demo.sh).
run: deps build
	@scripts/demo.sh bin $(DEMO)

## test: lint, every test (crash, two-process and tamper tests included), then brief fuzzing.
test: deps-test cups lint unit fuzz

unit:
	$(GO) test -count=1 ./...

## fuzz: brief fuzzing, bounded by a number of inputs rather than a time: when a -fuzztime duration runs out
## while a worker is busy, Go's fuzzing can report "context deadline exceeded" as a failure (seen here once
## in five runs); a count has no deadline. Each runs a few seconds.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseMoney$$' -fuzztime=100000x -fuzzminimizetime=2s ./bill
	$(GO) test -run='^$$' -fuzz='^FuzzParseSettlement$$' -fuzztime=50000x -fuzzminimizetime=2s ./bill
	$(GO) test -run='^$$' -fuzz='^FuzzMedicalRequest$$' -fuzztime=8000x -fuzzminimizetime=2s ./server

## bench: e-bill PDFs per core beside fpdf's whole-font baseline; issuing beside a raw durable SQLite insert;
## upload beside a raw batched insert; the console's queries over a generated ledger of 5,000,000 bills
## (PostgreSQL and SQLite, about 5 minutes each) beside plain SQL; backup, restore and verify of 1,000,000 signed bills
## (about 12 minutes each) beside a file copy and a plain read; each baseline measured in the same run.
bench: build
	@scripts/deps.sh bench
	EBILL_TEST_PG=$${EBILL_TEST_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable} \
		$(GO) run ./cmd/ebill-bench -n 500 -rounds 8 -upload 50000 -console 5000000 -console-sqlite -ops 1000000
	$(GO) test -run='^$$' -bench=. -benchmem ./bill

## build: the station CLI and the server for this machine, and the CLI for Windows (pure Go) so that breakage shows at once.
build: deps
	@mkdir -p bin
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ebill ./cmd/ebill
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ebill-server ./cmd/ebill-server
	$(GO) build -trimpath -o bin/demoboot ./cmd/internal/demoboot
	@echo "Building bin/ebill-desk (Fyne, with cgo and OpenGL): the first build compiles the GUI toolkit's C code and takes" \
		"about 5–8 minutes on 2 cores; later builds take seconds. 正在编译桌面程序，首次约需 5–8 分钟。"
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ebill-desk ./cmd/ebill-desk
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ebill.exe ./cmd/ebill

## screenshots: the pictures in docs/, rendered by the code (an e-bill, its detail list, a red bill, the desktop's screens).
screenshots: deps-test build
	@scripts/screenshots.sh bin
	EBILL_SCREENSHOTS=$(CURDIR)/docs/images $(GO) test -count=1 -run '^TestScreenshots$$' ./ui
	EBILL_SCREENSHOTS=$(CURDIR)/docs/images $(GO) test -count=1 -run '^TestConsoleScreenshots$$' ./server/web
	EBILL_SCREENSHOTS=$(CURDIR)/docs/images $(GO) test -count=1 -run '^TestOFDInIndependentRenderer$$' ./printing

## his-samples: docs/his-samples.md, every HIS service's request and response, from real calls (the end-to-end test and the walk of the reference).
his-samples: deps
	EBILL_HIS_SAMPLES=$(CURDIR)/docs/his-samples.md $(GO) test -count=1 -run '^(TestHISEndToEnd|TestHISReferenceWalk)$$' ./cmd/ebill-server

## build-windows: ebill-desk.exe (Fyne, cgo through mingw-w64) and ebill.exe for Windows PCs, with icon,
## version information and manifest (go-winres writes the .syso resources the Windows build links).
build-windows: winres
	@scripts/deps.sh windows
	@mkdir -p bin
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -trimpath \
		-ldflags "-H windowsgui $(LDFLAGS)" -o bin/ebill-desk.exe ./cmd/ebill-desk
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ebill.exe ./cmd/ebill

# The MSI's version: numeric, rising with every commit (MajorUpgrade compares it).
MSI_VERSION ?= 0.19.$(shell git rev-list --count HEAD 2>/dev/null || echo 0)
WINRES := $(GO) run github.com/tc-hib/go-winres@v0.3.3 simply --arch amd64 --icon assets/icon.png \
	--product-version $(MSI_VERSION).0 --file-version $(MSI_VERSION).0 --product-name 医疗电子票据 --copyright "ebill"

winres:
	$(WINRES) --manifest gui --file-description "医疗电子票据 收费桌面" --original-filename ebill-desk.exe --out cmd/ebill-desk/rsrc
	$(WINRES) --manifest cli --file-description "医疗电子票据 命令行与同步服务" --original-filename ebill.exe --out cmd/ebill/rsrc

## msi: bin/ebill-<version>-x64.msi, per-machine, with the desk, the CLI, the Start-menu shortcut and the sync
## service; signed when SIGN_PFX (and SIGN_PASS) name a code-signing certificate.
msi: build-windows
	@scripts/deps.sh msi
	scripts/msi.sh bin $(MSI_VERSION) bin/ebill-$(MSI_VERSION)-x64.msi

## test-windows: the MSI's tables, its signatures (a throwaway certificate) and, under wine, silent install with
## enrollment against a test server, a bill, an upgrade that keeps it, and an uninstall that keeps the data.
test-windows: build
	@scripts/deps.sh msi
	scripts/test-windows.sh

lint: deps
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) vet ./bill/... ./localstore/... ./sync/... ./printing/... ./cmd/ebill/...

clean:
	rm -rf bin $(DEMO)
