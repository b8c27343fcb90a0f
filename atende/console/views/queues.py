from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render


@login_required
def queues(request):
    if not request.user.is_staff_member:
        raise Http404
    return render(request, "console/queues.html")
