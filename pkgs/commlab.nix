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
    # Named in the Requires.private of librabbitmq's and rdkafka's .pc files,
    # which pkg-config resolves even for --cflags.
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

  # Unit tests only: tests that need a running broker carry the ctest label
  # "broker" and run in the labs instead.
  doCheck = true;
  checkPhase = ''
    runHook preCheck
    ctest --output-on-failure --label-exclude broker
    runHook postCheck
  '';

  meta = {
    description = "Campus food ordering three ways: REST, RabbitMQ and Kafka services in C, with a load generator";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "loadgen";
  };
}
