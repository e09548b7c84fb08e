// A KEDA external scaler serving replicast's recommendation (docs/keda-external-scaler.md).
//
//	go run . -addr :6000 -spec-dir /etc/replicast
//
// A ScaledObject points a trigger of type external at it (scalerAddress) and gives the
// replicast spec and the Prometheus queries in the trigger's metadata.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/replicast/replicast/examples/keda-external-scaler/externalscaler"
	"github.com/replicast/replicast/examples/keda-external-scaler/server"
)

func main() {
	addr := flag.String("addr", ":6000", "gRPC listen address")
	specDir := flag.String("spec-dir", "", "directory of the spec files metadata specPath names (empty: specPath refused)")
	minInterval := flag.Duration("min-interval", 5*time.Second, "calls within this time of a ScaledObject's last decision get it again")
	streamInterval := flag.Duration("stream-interval", 5*time.Second, "how often StreamIsActive decides")
	timeout := flag.Duration("prometheus-timeout", 10*time.Second, "timeout of one Prometheus query")
	flag.Parse()

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	scaler := server.New(server.Options{
		MinInterval:    *minInterval,
		StreamInterval: *streamInterval,
		SpecDir:        *specDir,
		HTTPClient:     &http.Client{Timeout: *timeout},
		Log:            log.Default(),
	})
	defer scaler.Close()
	srv := grpc.NewServer()
	pb.RegisterExternalScalerServer(srv, scaler)
	healthpb.RegisterHealthServer(srv, health.NewServer()) // for a gRPC liveness probe

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		log.Print("stopping")
		// StreamIsActive calls end only when KEDA cancels them: wait a little, then cut them
		done := make(chan struct{})
		go func() { srv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Stop()
		}
	}()
	log.Printf("KEDA external scaler (replicast) listening on %s", lis.Addr())
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}
