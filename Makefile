# Build and install shmscope with its shell completions and man pages.
#   make                      release build
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make uninstall PREFIX=/usr/local
#   make dist                 a self-contained executable and a .deb in .build/dist (see README, "Install without Swift")
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
SWIFT ?= swift
BIN = $(shell $(SWIFT) build -c release --show-bin-path)/shmscope

.PHONY: all build man install uninstall dist
all: build

build:
	$(SWIFT) build -c release --product shmscope

# Man pages generated from the argument parser's own definitions (swift-argument-parser's generate-manual plugin).
man: build
	rm -rf .build/man && mkdir -p .build/man
	$(SWIFT) package --allow-writing-to-directory "$(CURDIR)/.build/man" generate-manual --multi-page --output-directory "$(CURDIR)/.build/man"
	@ls .build/man

install: build man
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 $(BIN) $(BINDIR)/shmscope
	find .build/man -name '*.1' -exec install -m 0644 {} $(MANDIR)/ \;
	$(BIN) --generate-completion-script bash > $(BASHDIR)/shmscope
	$(BIN) --generate-completion-script zsh > $(ZSHDIR)/_shmscope
	$(BIN) --generate-completion-script fish > $(FISHDIR)/shmscope.fish
	@echo "installed shmscope to $(BINDIR); man shmscope; restart your shell for completions"

uninstall:
	rm -f $(BINDIR)/shmscope $(BASHDIR)/shmscope $(ZSHDIR)/_shmscope $(FISHDIR)/shmscope.fish
	rm -f $(MANDIR)/shmscope.1 $(MANDIR)/shmscope.*.1

# A self-contained executable: Swift's runtime and libraries linked statically (-static-stdlib), and zlib too (a
# directory holding only libz.a comes first in the library path), so the only shared libraries it needs are libc,
# libstdc++, libgcc and ncurses, which the build checks; and a Debian package that depends on exactly those, with the
# man pages and completions. Built in its own scratch path, so it never disturbs `.build`.
DIST := .build/dist
DIST_SCRATCH := .build-dist
VERSION := $(shell sed -n 's/^let shmscopeVersion = "\(.*\)"/\1/p' Sources/shmscope/Version.swift)
DEB_VERSION := $(subst -,~,$(VERSION))
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)

dist:
	mkdir -p $(DIST_SCRATCH)/static-libs
	ln -sfn "$$(gcc -print-file-name=libz.a)" $(DIST_SCRATCH)/static-libs/libz.a
	test -f $(DIST_SCRATCH)/static-libs/libz.a || { echo "dist: libz.a not found: apt-get install zlib1g-dev" >&2; exit 1; }
	$(SWIFT) build -c release --product shmscope --static-swift-stdlib --scratch-path $(DIST_SCRATCH) \
	  -Xlinker -L$(CURDIR)/$(DIST_SCRATCH)/static-libs
	$(SWIFT) build --product generate-manual --scratch-path $(DIST_SCRATCH)
	rm -rf $(DIST) && mkdir -p $(DIST)/pkg/DEBIAN $(DIST)/pkg/usr/bin $(DIST)/pkg/usr/share/man/man1 \
	  $(DIST)/pkg/usr/share/bash-completion/completions $(DIST)/pkg/usr/share/zsh/vendor-completions \
	  $(DIST)/pkg/usr/share/fish/vendor_completions.d $(DIST)/pkg/usr/share/doc/shmscope
	install -m 0755 -s $(DIST_SCRATCH)/release/shmscope $(DIST)/shmscope
	install -m 0755 $(DIST)/shmscope $(DIST)/pkg/usr/bin/shmscope
	mkdir -p $(DIST)/man && $(DIST_SCRATCH)/debug/generate-manual $(DIST)/shmscope --multi-page --output-directory $(DIST)/man
	for page in $(DIST)/man/*.1; do gzip -9n < $$page > $(DIST)/pkg/usr/share/man/man1/$$(basename $$page).gz; done
	$(DIST)/shmscope --generate-completion-script bash > $(DIST)/pkg/usr/share/bash-completion/completions/shmscope
	$(DIST)/shmscope --generate-completion-script zsh > $(DIST)/pkg/usr/share/zsh/vendor-completions/_shmscope
	$(DIST)/shmscope --generate-completion-script fish > $(DIST)/pkg/usr/share/fish/vendor_completions.d/shmscope.fish
	install -m 0644 CHANGELOG.md $(DIST)/pkg/usr/share/doc/shmscope/CHANGELOG.md
	printf '%s\n' \
	  'Package: shmscope' \
	  'Version: $(DEB_VERSION)' \
	  'Architecture: $(DEB_ARCH)' \
	  'Maintainer: shmscope developers <shmscope@localhost>' \
	  'Depends: libc6, libstdc++6, libgcc-s1, libncursesw6' \
	  'Suggests: libclang1-14, libclang-common-14-dev' \
	  'Section: utils' \
	  'Priority: optional' \
	  "Installed-Size: $$(du -sk $(DIST)/pkg/usr | cut -f1)" \
	  'Description: terminal monitor and editor for Linux shared memory' \
	  ' See and change what is inside System V and POSIX shared memory, Qt QSharedMemory' \
	  ' segments (under the lock their peers use), memfd objects and anonymous shared' \
	  ' mappings, in this and in other IPC namespaces (containers).' \
	  > $(DIST)/pkg/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build $(DIST)/pkg $(DIST)/shmscope_$(DEB_VERSION)_$(DEB_ARCH).deb
	@ldd $(DIST)/shmscope | sed 's/^/  needs /'
	@extra=$$(ldd $(DIST)/shmscope | awk '{print $$1}' \
	  | grep -vE '^(linux-vdso|libc|libm|libstdc\+\+|libgcc_s|libncursesw|libtinfo)\.so|^/lib64/ld-linux' || true); \
	  if [ -n "$$extra" ]; then echo "dist: needs more than libc, libstdc++, libgcc and ncurses: $$extra" >&2; exit 1; fi
	@ls -l $(DIST)/shmscope $(DIST)/*.deb
