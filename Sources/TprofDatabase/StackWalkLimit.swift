/// The most frames a walk up a stored stack tree takes: the kernel's chains are far shorter
/// (`kernel.perf_event_max_stack`, 127 by default), so the bound only stops a walk through damaged parent links of
/// a corrupt or hostile file from running on.
public let stackWalkLimit = 4096
