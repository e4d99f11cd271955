# amqp-publish, amqp-consume, amqp-get, ... (Debian's amqp-tools): rabbitmq-c's
# own command-line tools, which the scenarios use to publish by hand as a
# plain AMQP client would. nixpkgs' rabbitmq-c builds the library only
# (upstream's BUILD_TOOLS is OFF by default and needs popt), so turn them on.
{
  rabbitmq-c,
  popt,
}:

rabbitmq-c.overrideAttrs (old: {
  buildInputs = (old.buildInputs or [ ]) ++ [ popt ];
  cmakeFlags = (old.cmakeFlags or [ ]) ++ [ "-DBUILD_TOOLS=ON" ];
})
