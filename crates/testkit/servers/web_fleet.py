"""Seeds moto with a web-base family for plan tests: two golden versions (2026.11.0 with
provenance tags, 2026.11.1) and N instances on the older one.

    python web_fleet.py URL N
"""

import sys

import boto3

url, n = sys.argv[1], int(sys.argv[2])
ec2 = boto3.client(
    "ec2", endpoint_url=url, region_name="eu-west-1",
    aws_access_key_id="testing", aws_secret_access_key="testing",
)
base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
builder = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1, InstanceType="t3.micro")
builder = builder["Instances"][0]["InstanceId"]


def bake(version):
    tags = [{"Key": "drydock:family", "Value": "web-base"}, {"Key": "drydock:version", "Value": version}]
    return ec2.create_image(
        InstanceId=builder, Name=f"web-base-{version}",
        TagSpecifications=[{"ResourceType": "image", "Tags": tags}],
    )["ImageId"]


old, new = bake("2026.11.0"), bake("2026.11.1")
ec2.terminate_instances(InstanceIds=[builder])
for i in range(n):
    ec2.run_instances(
        ImageId=old, MinCount=1, MaxCount=1, InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [
            {"Key": "Name", "Value": f"web-{i + 1:03}"}, {"Key": "app", "Value": "web"}]}],
    )
print(old, new)
