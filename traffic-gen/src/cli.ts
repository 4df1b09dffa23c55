console.log('traffic-gen: not implemented yet');
