// Command vcsim-fixture starts govmomi's vCenter simulator (its VPX model) for the tests of
// the vsphere platform: the inventory the flags ask for, HTTPS on 127.0.0.1 with the
// certificate the test generated, and the credentials from the environment (never argv).
//
// Where vcsim falls short of vCenter in a way the tests need, the fixture emulates vCenter,
// saying so: migration_events.go logs the VmMigratedEvent of a successful relocation.
//
// It prints one JSON line on stdout, {"url": "https://127.0.0.1:PORT/sdk"}, then serves until
// SIGTERM or SIGINT, or until its standard input closes (the test process went away), and
// removes the model's temporary datastore folders before exiting.
//
// Built in GOPATH mode against Debian's golang-github-vmware-govmomi-dev (0.24.2); see
// test/vsphere/build-vcsim.sh.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	datacenters := flag.Int("dc", 1, "datacenters")
	clusters := flag.Int("cluster", 1, "clusters per datacenter")
	clusterHosts := flag.Int("host", 3, "hosts per cluster")
	standaloneHosts := flag.Int("standalone-host", 0, "standalone hosts per datacenter")
	machines := flag.Int("vm", 2, "VMs per resource pool (each cluster's, each standalone host's)")
	certFile := flag.String("cert", "", "PEM certificate of the server")
	keyFile := flag.String("key", "", "PEM private key of the server")
	disable := flag.String("disable-method", "", "VM:Method, comma-separated (vim25 names, e.g. VM0:RelocateVM_Task): methods put into the VM's disabledMethod, so that calling them faults with MethodDisabled")
	flag.Parse()

	if err := run(*datacenters, *clusters, *clusterHosts, *standaloneHosts, *machines, *certFile, *keyFile, *disable); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim-fixture:", err)
		os.Exit(1)
	}
}

func run(datacenters, clusters, clusterHosts, standaloneHosts, machines int, certFile, keyFile, disable string) error {
	user, pass := os.Getenv("VCSIM_USERNAME"), os.Getenv("VCSIM_PASSWORD")
	if user == "" || pass == "" {
		return fmt.Errorf("VCSIM_USERNAME and VCSIM_PASSWORD must be set")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}

	model := simulator.VPX()
	model.Datacenter = datacenters
	model.Cluster = clusters
	model.ClusterHost = clusterHosts
	model.Host = standaloneHosts
	model.Machine = machines
	if err := model.Create(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	defer model.Remove()

	if err := disableMethods(disable); err != nil {
		return err
	}
	postMigrationEvents()

	model.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(user, pass)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server := model.Service.NewServer()
	defer server.Close()

	address := *server.URL
	address.User = nil
	line, _ := json.Marshal(map[string]interface{}{"url": address.String(), "hosts": hostNames(), "vms": vmHosts()})
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case <-stop:
	case <-stdinClosed:
	}
	return nil
}

// hostNames lists the simulator's hosts, read from its registry rather than through the API.
func hostNames() []string {
	names := []string{}
	for _, entity := range simulator.Map.All("HostSystem") {
		names = append(names, entity.(*simulator.HostSystem).Name)
	}
	return names
}

// vmHosts maps each VM's name to the name of the host it runs on.
func vmHosts() map[string]string {
	hosts := map[string]string{}
	for _, entity := range simulator.Map.All("VirtualMachine") {
		vm := entity.(*simulator.VirtualMachine)
		if vm.Runtime.Host != nil {
			hosts[vm.Name] = simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem).Name
		}
	}
	return hosts
}

// disableMethods puts methods into VMs' disabledMethod, as vCenter does while, for example, a
// backup holds a VM: calling one then faults with MethodDisabled.
func disableMethods(spec string) error {
	if spec == "" {
		return nil
	}
	for _, entry := range strings.Split(spec, ",") {
		parts := strings.SplitN(entry, ":", 2)
		if len(parts) != 2 {
			return fmt.Errorf("-disable-method %q: expected VM:Method", entry)
		}
		// vcsim 0.24 compares disabledMethod with its Go method names: RelocateVM_Task is RelocateVMTask.
		method := strings.TrimSuffix(parts[1], "_Task")
		if method != parts[1] {
			method += "Task"
		}
		found := false
		for _, entity := range simulator.Map.All("VirtualMachine") {
			vm := entity.(*simulator.VirtualMachine)
			if vm.Name == parts[0] {
				simulator.Map.Update(vm, []types.PropertyChange{
					{Name: "disabledMethod", Val: append(append([]string{}, vm.DisabledMethod...), method)},
				})
				found = true
			}
		}
		if !found {
			return fmt.Errorf("-disable-method %q: no VM named %s", entry, parts[0])
		}
	}
	return nil
}
