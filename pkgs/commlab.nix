# The services, loadgen and tools, built with the same CMake files as CI.
{
  lib,
  stdenv,
  cmake,
  pkg-config,
  libmicrohttpd,
  curl,
  sqlite,
  cjson,
  rabbitmq-c,
  rdkafka,
  gnutls,
  openssl,
  zlib,
  zstd,
}:

stdenv.mkDerivation {
  pname = "commlab";
  version = "0.1.0";

  src = lib.fileset.toSource {
    root = ../.;
    fileset = ../services;
  };

  # nixpkgs' CMake hook configures from a `build` directory inside the
  # source root; the CMake project lives in services/.
  cmakeDir = "../services";

  nativeBuildInputs = [
    cmake
    pkg-config
  ];

  buildInputs = [
    libmicrohttpd
    curl
    sqlite
    cjson
    rabbitmq-c
    rdkafka
    # Named in Requires.private: gnutls by libmicrohttpd's .pc, the compression
    # and TLS libraries by rdkafka's (rabbitmq-c 0.15's is empty). nixpkgs'
    # pkg-config skips Requires.private for --cflags, stock pkgconf does not:
    # without them configure fails with "Package 'gnutls', required by
    # 'libmicrohttpd', not found".
    gnutls
    openssl
    zlib
    zstd
  ];

  # COMMLAB_WERROR stays at its default (OFF): warnings never break a user's
  # build with a newer compiler.
  cmakeFlags = [
    (lib.cmakeBool "COMMLAB_SANITIZE" false)
    (lib.cmakeBool "COMMLAB_FUZZ" false)
  ];

  # The unit tests (services/tests/unit) need no broker; the tests against
  # real brokers are the labs' scenarios.
  doCheck = true;
  checkPhase = ''
    runHook preCheck
    ctest --output-on-failure
    runHook postCheck
  '';

  meta = {
    description = "Campus food ordering three ways: REST, RabbitMQ and Kafka services in C, with a load generator";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "loadgen";
  };
}
