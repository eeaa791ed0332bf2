package main

// Emulates vCenter here, not vcsim: vCenter logs a VmMigratedEvent when a task that moved a VM
// to another host succeeds; vcsim 0.24.2's RelocateVM_Task moves the VM but logs nothing, and
// the event's message template it ships is malformed ("{{.SourceHost.Name}," does not parse,
// so posting the event as is would panic). This file fixes the template and posts the event
// through the simulator's own EventManager, so that QueryEvents answers as vCenter would.

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vmMigratedFormat is vCenter's message for a VmMigratedEvent, in the simulator's template syntax.
const vmMigratedFormat = "Migration of virtual machine {{.Vm.Name}} from {{.SourceHost.Name}}{{with .SourceDatastore}}, {{.Name}}{{end}}" +
	" to {{.Host.Name}}{{with .Ds}}, {{.Name}}{{end}} completed"

// relocateTask is RelocateVM_Task's DescriptionId in vcsim (which has no MigrateVM_Task).
const relocateTask = "VirtualMachine.relocateVm"

// migrationEvents watches the registry: it remembers a VM's host when a relocation task is
// created, and when that task succeeds with the VM on another host, it posts the event.
type migrationEvents struct {
	mu      sync.Mutex
	sources map[types.ManagedObjectReference]types.ManagedObjectReference // task -> the VM's host at its creation
}

// postMigrationEvents starts emulating vCenter's VmMigratedEvent; call it before serving.
func postMigrationEvents() {
	events := simulator.Map.EventManager()
	for i := range events.Description.EventInfo {
		if info := &events.Description.EventInfo[i]; info.Key == "VmMigratedEvent" {
			info.FullFormat = vmMigratedFormat
		}
	}
	simulator.Map.AddHandler(&migrationEvents{sources: map[types.ManagedObjectReference]types.ManagedObjectReference{}})
}

// Reference names the handler in the registry's table of handlers.
func (m *migrationEvents) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VmMigratedEventEmulator", Value: "vm-monitoring-fixture"}
}

// PutObject sees tasks being created: the VM is still on its source host.
func (m *migrationEvents) PutObject(obj mo.Reference) {
	task, ok := obj.(*simulator.Task)
	if !ok || task.Info.DescriptionId != relocateTask || task.Info.Entity == nil {
		return
	}
	vm, ok := simulator.Map.Get(*task.Info.Entity).(*simulator.VirtualMachine)
	if !ok || vm.Runtime.Host == nil {
		return
	}
	m.mu.Lock()
	m.sources[task.Self] = *vm.Runtime.Host
	m.mu.Unlock()
}

// UpdateObject sees a task's state change after it was applied (the registry passes the mo.Task).
func (m *migrationEvents) UpdateObject(obj mo.Reference, _ []types.PropertyChange) {
	task, ok := obj.(*mo.Task)
	if !ok || (task.Info.State != types.TaskInfoStateSuccess && task.Info.State != types.TaskInfoStateError) {
		return
	}
	m.mu.Lock()
	source, known := m.sources[task.Self]
	delete(m.sources, task.Self)
	m.mu.Unlock()
	// Posting updates the event collectors, which calls UpdateObject again: m.mu must be free by now.
	if known && task.Info.State == types.TaskInfoStateSuccess {
		postVMMigrated(task, source)
	}
}

// RemoveObject forgets a task that goes away before it ends.
func (m *migrationEvents) RemoveObject(ref types.ManagedObjectReference) {
	m.mu.Lock()
	delete(m.sources, ref)
	m.mu.Unlock()
}

// postVMMigrated logs the VmMigratedEvent of a task that moved its VM from source, shaped as
// vCenter's: the VM and its new host, compute resource, datacenter and datastore, and the source host.
func postVMMigrated(task *mo.Task, source types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(*task.Info.Entity).(*simulator.VirtualMachine)
	if !ok || vm.Runtime.Host == nil || *vm.Runtime.Host == source {
		return
	}
	target := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	event := &types.VmMigratedEvent{
		VmEvent: types.VmEvent{Event: types.Event{
			Vm:   &types.VmEventArgument{EntityEventArgument: entityArgument(vm.Self), Vm: vm.Self},
			Host: &types.HostEventArgument{EntityEventArgument: entityArgument(target.Self), Host: target.Self},
		}},
		SourceHost: types.HostEventArgument{EntityEventArgument: entityArgument(source), Host: source},
	}
	if parent := target.Parent; parent != nil {
		event.ComputeResource = &types.ComputeResourceEventArgument{EntityEventArgument: entityArgument(*parent), ComputeResource: *parent}
	}
	if dc := datacenterOf(target.Self); dc != nil {
		event.Datacenter = &types.DatacenterEventArgument{EntityEventArgument: entityArgument(*dc), Datacenter: *dc}
	}
	if dc := datacenterOf(source); dc != nil {
		event.SourceDatacenter = &types.DatacenterEventArgument{EntityEventArgument: entityArgument(*dc), Datacenter: *dc}
	}
	if len(vm.Datastore) > 0 {
		// The platform relocates without a datastore in its spec: the storage stays where it was.
		ds := vm.Datastore[0]
		event.Ds = &types.DatastoreEventArgument{EntityEventArgument: entityArgument(ds), Datastore: ds}
		event.SourceDatastore = event.Ds
	}
	user := ""
	if reason, ok := task.Info.Reason.(*types.TaskReasonUser); ok {
		user = reason.UserName
	}
	manager := simulator.Map.EventManager()
	ctx := &simulator.Context{Session: &simulator.Session{UserSession: types.UserSession{UserName: user}}, Map: simulator.Map}
	simulator.Map.WithLock(manager, func() {
		manager.PostEvent(ctx, &types.PostEvent{EventToPost: event})
	})
}

func entityArgument(ref types.ManagedObjectReference) types.EntityEventArgument {
	name := ""
	if entity, ok := simulator.Map.Get(ref).(mo.Entity); ok {
		name = entity.Entity().Name
	}
	return types.EntityEventArgument{Name: name}
}

// datacenterOf walks up the inventory from an entity to its datacenter.
func datacenterOf(ref types.ManagedObjectReference) *types.ManagedObjectReference {
	for {
		entity, ok := simulator.Map.Get(ref).(mo.Entity)
		if !ok {
			return nil
		}
		if ref.Type == "Datacenter" {
			return &ref
		}
		parent := entity.Entity().Parent
		if parent == nil {
			return nil
		}
		ref = *parent
	}
}
